using TimeFusion.Silo.Security;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Tests.Protocol.Postgres;

namespace TimeFusion.Tests.Cluster;

/// <summary>
/// psql <c>\copy</c> of rows that carry <c>project_id</c>: each row lands in its project's table grain, as a
/// multi-tenant export loaded by an admin needs; a row for a project the caller may not write refuses the whole COPY.
/// </summary>
public sealed class CopyRoutingTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>, IAsyncLifetime
{
    private const string User = "copy_user";
    private const string Password = "copy pw";
    private const string Admin = "copy_admin";
    private const string AdminPassword = "copy admin pw";
    private static readonly string[] Projects = ["route-a", "route-b", "route-c"];
    private ClusterPostgresEndpoint _endpoint = null!;

    public async Task InitializeAsync() => _endpoint = await ClusterPostgresEndpoint.StartAsync(fixture.Client,
        new TimeFusionUser { Name = User, PasswordOrScramSecret = Password, Projects = ["route-a"] },
        new TimeFusionUser { Name = Admin, PasswordOrScramSecret = AdminPassword, IsAdmin = true, Projects = ["route-a"] });

    public async Task DisposeAsync() => await _endpoint.DisposeAsync();

    private Task<PsqlRunner.Result> AsAdmin(params string[] arguments) => PsqlRunner.RunAsync(_endpoint.Port, "timefusion", Admin, AdminPassword, arguments);

    private Task<PsqlRunner.Result> AsUser(params string[] arguments) => PsqlRunner.RunAsync(_endpoint.Port, "timefusion", User, Password, arguments);

    private async Task<long> CountAsync(string project, string idPrefix)
    {
        var result = await AsAdmin("-At", "-c", $"SELECT count(*) FROM otel_logs_and_spans WHERE project_id = '{project}' AND id LIKE '{idPrefix}%'");
        Assert.True(result.ExitCode == 0, result.Stderr);
        return long.Parse(result.Stdout.Trim());
    }

    [Fact]
    public async Task An_admins_copy_lands_each_row_in_its_project()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "tenants.csv");
        // Interleaved projects, unequal counts: 0..899 → a gets i % 3 == 0 (300), b i % 3 == 1 (300), c the rest (300) but c loses every 10th.
        var rows = Enumerable.Range(0, 900).Where(i => !(i % 3 == 2 && i % 10 == 0))
            .Select(i => $"{Projects[i % 3]},mixed-{i},2026-11-24 10:{i / 60 % 60:00}:{i % 60:00}+00,INFO").ToList();
        await File.WriteAllLinesAsync(file, ["project_id,id,timestamp,level", .. rows]);

        var copy = await AsAdmin("-c", $@"\copy otel_logs_and_spans (project_id, id, timestamp, level) from '{file}' with (format csv, header)");
        Assert.True(copy.ExitCode == 0, copy.Stderr);
        Assert.Contains($"COPY {rows.Count}", copy.Stdout);
        foreach (var p in Projects)
            Assert.Equal(rows.Count(r => r.StartsWith(p + ",", StringComparison.Ordinal)), await CountAsync(p, "mixed-"));
    }

    [Fact]
    public async Task A_user_copying_a_row_of_another_project_gets_42501_and_nothing_lands()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "foreign.csv");
        // The foreign row comes last: nothing before it may land either.
        var rows = Enumerable.Range(0, 500).Select(i => $"route-a,deny-{i},2026-11-24 11:00:{i % 60:00}+00,INFO")
            .Append("route-b,deny-foreign,2026-11-24 11:59:00+00,INFO").ToList();
        await File.WriteAllLinesAsync(file, rows);

        var copy = await AsUser("-v", "VERBOSITY=verbose", "-c", $@"\copy otel_logs_and_spans (project_id, id, timestamp, level) from '{file}' with (format csv)");
        Assert.NotEqual(0, copy.ExitCode);
        Assert.Contains("42501", copy.Stderr);
        Assert.Contains("route-b", copy.Stderr);
        Assert.Equal(0, await CountAsync("route-a", "deny-"));
        Assert.Equal(0, await CountAsync("route-b", "deny-"));

        // Without the foreign row the same user's COPY (project_id given or left out) lands.
        await File.WriteAllLinesAsync(file, rows.Take(500));
        var own = await AsUser("-c", $@"\copy otel_logs_and_spans (project_id, id, timestamp, level) from '{file}' with (format csv)");
        Assert.True(own.ExitCode == 0, own.Stderr);
        Assert.Equal(500, await CountAsync("route-a", "deny-"));
    }
}
