using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Tests.Sql;

namespace TimeFusion.Tests.Drivers;

/// <summary>
/// node-postgres (npm <c>pg</c> 8, with <c>pg-cursor</c> and <c>pg-copy-streams</c>) as a second real driver:
/// <c>node/driver-cases.js</c> runs against the TimeFusion silo and against the throwaway PostgreSQL 15 of the same
/// fixture, and each case's JSON line (rows as the driver parsed them, result type OIDs, SQLSTATEs) must be identical.
/// The cases in <see cref="ExpectedDifferences"/> are the reasoned list of differences; each must still differ.
/// </summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class NodePostgresDriverTests(SqlSurfaceFixture fixture)
{
    /// <summary>Cases whose output differs from PostgreSQL 15's on purpose, with the reason.</summary>
    private static readonly Dictionary<string, string> ExpectedDifferences = new(StringComparer.Ordinal)
    {
    };

    private static readonly string[] Cases =
    [
        "parameters_of_every_type", "insert_with_parameters_and_read_back", "reading_jsonb", "transaction_commit",
        "transaction_rollback", "error_aborts_the_block_25P02", "read_only_block_refuses_writes_25006",
        "cursor_with_a_fetch_size", "declare_fetch_close", "copy_from_stdin", "metadata_queries", "errors_with_parameters",
        "update_and_delete_in_a_block",
    ];

    [Fact]
    public async Task Every_case_answers_as_it_does_against_PostgreSQL_15()
    {
        var timeFusion = RunAsync(fixture.Silo.PostgresPort, SqlSurfaceFixture.Admin, SqlSurfaceFixture.AdminPassword);
        var postgres = RunAsync(fixture.Postgres.Port, "bench", "");
        var ours = await timeFusion;
        var theirs = await postgres;

        var report = new StringBuilder();
        foreach (var name in Cases)
        {
            var a = ours.GetValueOrDefault(name, "<no output>");
            var b = theirs.GetValueOrDefault(name, "<no output>");
            if (ExpectedDifferences.TryGetValue(name, out var reason))
            {
                if (a == b) report.Append($"{name} is listed as differing ({reason}) but now answers as PostgreSQL does: remove it from the list\n");
            }
            else if (a != b)
            {
                report.Append($"{name}\n--- TimeFusion\n{a}\n--- PostgreSQL 15\n{b}\n");
            }
        }
        Assert.True(report.Length == 0, "node-postgres cases answered differently from PostgreSQL 15:\n" + report);
        // The PostgreSQL run itself proves the expectations are real: no case of it failed outright.
        Assert.All(Cases, name => Assert.DoesNotContain("\"error\"", theirs[name]));
    }

    /// <summary>Runs the script with the standard PG* variables of one server; returns each case's JSON (case name removed).</summary>
    private static async Task<Dictionary<string, string>> RunAsync(int port, string user, string password)
    {
        var script = Path.Combine(RepoPaths.Root, "tests", "TimeFusion.Tests", "Drivers", "node", "driver-cases.js");
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        info.Environment["PGHOST"] = "127.0.0.1";
        info.Environment["PGPORT"] = port.ToString();
        info.Environment["PGUSER"] = user;
        info.Environment["PGPASSWORD"] = password;
        info.Environment["PGDATABASE"] = "postgres";
        info.Environment["PGCONNECT_TIMEOUT"] = "10";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node driver-cases.js on port {port} did not finish within 120 s: {await stdout}");
        }
        Assert.True(process.ExitCode == 0, $"driver-cases.js on port {port} exited {process.ExitCode}: {await stderr}\n{await stdout}");
        var cases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var node = JsonNode.Parse(line)!.AsObject();
            var name = (string)node["case"]!;
            node.Remove("case");
            cases[name] = node.ToJsonString();
        }
        return cases;
    }
}
