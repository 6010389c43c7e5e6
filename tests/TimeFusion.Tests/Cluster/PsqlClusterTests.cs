using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Tests.Protocol.Postgres;
using TimeFusion.Silo.Security;

namespace TimeFusion.Tests.Cluster;

/// <summary>The real psql against the silo's PostgreSQL endpoint and a real cluster: what a person does first.</summary>
public sealed class PsqlClusterTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>, IAsyncLifetime
{
    private const string User = "psql_user";
    private const string Password = "psql pw";
    private const string Admin = "psql_admin";
    private const string AdminPassword = "admin pw";
    private ClusterPostgresEndpoint _endpoint = null!;

    public async Task InitializeAsync() => _endpoint = await ClusterPostgresEndpoint.StartAsync(fixture.Client,
        new TimeFusionUser { Name = User, PasswordOrScramSecret = Password, Projects = ["psql-project"] },
        new TimeFusionUser { Name = Admin, PasswordOrScramSecret = AdminPassword, IsAdmin = true, Projects = ["psql-project"] });

    public async Task DisposeAsync() => await _endpoint.DisposeAsync();

    private Task<PsqlRunner.Result> Psql(params string[] arguments) => PsqlRunner.RunAsync(_endpoint.Port, "timefusion", User, Password, arguments);

    private static void Succeeded(PsqlRunner.Result result) => Assert.True(result.ExitCode == 0, $"psql exited {result.ExitCode}: {result.Stderr}");

    [Fact]
    public async Task Dt_lists_the_built_in_table_and_tables_created_over_the_wire()
    {
        const string create = "CREATE TABLE psql_metrics (timestamp TIMESTAMPTZ NOT NULL, name VARCHAR, value DOUBLE PRECISION)";
        var refused = await Psql("-v", "VERBOSITY=verbose", "-c", create);
        Assert.Contains("ERROR:  42501:", refused.Stderr);
        Succeeded(await PsqlRunner.RunAsync(_endpoint.Port, "timefusion", Admin, AdminPassword, "-c", create));
        var result = await Psql("-c", @"\dt");
        Succeeded(result);
        var rows = result.Stdout.Split('\n').Where(l => l.Contains("| table |", StringComparison.Ordinal)).ToList();
        Assert.Contains(rows, r => r.Contains(" public | otel_logs_and_spans ", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains(" public | psql_metrics ", StringComparison.Ordinal));
        // Nothing of the silo's own machinery (buffer tables, DuckDB views) is listed.
        Assert.All(rows, r => Assert.DoesNotContain("duckdb", r, StringComparison.OrdinalIgnoreCase));

        var metrics = await Psql("-c", @"\d psql_metrics");
        Succeeded(metrics);
        Assert.Contains("Table \"public.psql_metrics\"", metrics.Stdout);
        Assert.Matches(@"value\s+\| double precision", metrics.Stdout);
    }

    [Fact]
    public async Task D_describes_otel_logs_and_spans_with_postgresql_types()
    {
        var result = await Psql("-c", @"\d otel_logs_and_spans");
        Succeeded(result);
        Assert.Contains("Table \"public.otel_logs_and_spans\"", result.Stdout);
        Assert.Matches(@"\n\s*timestamp\s+\| timestamp with time zone \|\s+\| not null", result.Stdout);
        Assert.Matches(@"\n\s*hashes\s+\| text\[\]", result.Stdout);
        Assert.Matches(@"\n\s*attributes\s+\| jsonb", result.Stdout);
        Assert.Matches(@"\n\s*duration\s+\| bigint", result.Stdout);
        Assert.Matches(@"\n\s*project_id\s+\| text", result.Stdout);
    }

    [Fact]
    public async Task L_dn_and_du_show_the_database_schema_and_users()
    {
        var databases = await Psql("-c", @"\l");
        Succeeded(databases);
        Assert.Matches(@"timefusion\s+\| psql_admin\s+\| UTF8", databases.Stdout);
        var schemas = await Psql("-c", @"\dn");
        Succeeded(schemas);
        Assert.Matches(@"public\s+\| psql_admin", schemas.Stdout);
        Assert.DoesNotContain("pg_catalog", schemas.Stdout);
        var roles = await Psql("-c", @"\du");
        Succeeded(roles);
        Assert.Matches(@"psql_admin\s+\| Superuser", roles.Stdout);
        Assert.Contains(User, roles.Stdout);
    }

    [Fact]
    public async Task A_file_copied_in_is_counted_and_shown_expanded_with_x()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "rows.csv");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 1500).Select(i => $"psql-copy-{i},2026-11-24 10:{i / 60 % 60:00}:{i % 60:00}+00,{(i % 3 == 0 ? "ERROR" : "INFO")}"));
        var copy = await Psql("-c", $@"\copy otel_logs_and_spans (id, timestamp, level) from '{file}' with (format csv)");
        Succeeded(copy);
        Assert.Contains("COPY 1500", copy.Stdout);

        var count = await Psql("-At", "-c", "SELECT count(*) FROM otel_logs_and_spans WHERE id LIKE 'psql-copy-%' AND level = 'ERROR'");
        Succeeded(count);
        Assert.Equal("500", count.Stdout.Trim());

        var expanded = await Psql("-c", @"\x on", "-c", "SELECT id, level, count(*) FROM otel_logs_and_spans WHERE id = 'psql-copy-3' GROUP BY id, level");
        Succeeded(expanded);
        Assert.Contains("-[ RECORD 1 ]", expanded.Stdout);
        Assert.Matches(@"id\s+\| psql-copy-3", expanded.Stdout);
        Assert.Matches(@"level\s+\| ERROR", expanded.Stdout);
        Assert.Matches(@"count\s+\| 1", expanded.Stdout);
    }

    [Fact]
    public async Task Errors_are_shown_with_their_sqlstate_and_the_session_goes_on()
    {
        var result = await Psql("-v", "VERBOSITY=verbose", "-At", "-c", "SELECT * FROM no_such_table", "-c", "SELECT 41 + 1 AS answer");
        Assert.Contains("ERROR:  42P01:", result.Stderr);
        Assert.Contains("no_such_table", result.Stderr);
        Assert.Equal("42", result.Stdout.Trim());

        var syntax = await Psql("-v", "VERBOSITY=verbose", "-v", "ON_ERROR_STOP=0", "-c", "SELEC 1");
        Assert.Contains("ERROR:  42601:", syntax.Stderr);

        var forbidden = await Psql("-v", "VERBOSITY=verbose", "-c", "SELECT count(*) FROM otel_logs_and_spans WHERE project_id = 'not-mine'");
        Assert.Contains("ERROR:  42501:", forbidden.Stderr);
    }
}
