using System.Diagnostics;
using System.Text;

namespace TimeFusion.Tests.Sql.Differential;

/// <summary>
/// The differential test: <c>corpus.sql</c> (SELECTs, DML, DDL, regex and JSON operators, time functions, aggregates,
/// errors) runs over the real psql against the TimeFusion silo (as an admin, who reads every project) and against
/// PostgreSQL 15 on the same rows. Each statement's output must be identical, SQLSTATEs included (messages are not
/// compared); the statements marked <c>-- differs: reason</c> in the corpus are the reasoned list of expected
/// differences, and each must still differ.
/// </summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class PostgresDifferentialTests(SqlSurfaceFixture fixture)
{
    [Fact]
    public async Task The_corpus_answers_as_PostgreSQL_15_does()
    {
        var corpus = DifferentialCorpus.Load();
        Assert.True(corpus.Statements.Count >= 150, $"the corpus holds {corpus.Statements.Count} statements; it should hold at least 150");
        using var directory = new Infrastructure.TempDirectory();
        // One script file for both runs: psql prefixes errors with its path and line.
        var script = Path.Combine(directory.Path, "corpus.sql");
        await File.WriteAllTextAsync(script, corpus.Script());

        var timeFusion = RunPsqlAsync(fixture.Silo.PostgresPort, "tf", SqlSurfaceFixture.Admin, SqlSurfaceFixture.AdminPassword, script, null);
        // PostgreSQL says NOTICE where TimeFusion says nothing (DROP TABLE IF EXISTS of a missing table): warnings and up only.
        var postgres = RunPsqlAsync(fixture.Postgres.Port, "postgres", "bench", "", script, "-c client_min_messages=warning");
        var ours = DifferentialCorpus.Split(await timeFusion);
        var theirs = DifferentialCorpus.Split(await postgres);

        var report = new StringBuilder();
        for (var i = 0; i < corpus.Statements.Count; i++)
        {
            var (sql, differs) = corpus.Statements[i];
            var a = ours.GetValueOrDefault(i, "<no output>");
            var b = theirs.GetValueOrDefault(i, "<no output>");
            if (differs is not null)
            {
                if (a == b) report.Append($"[{i}] {sql}\n  is marked \"differs: {differs}\" but now answers as PostgreSQL does: remove the mark\n");
            }
            else if (a != b)
            {
                report.Append($"[{i}] {sql}\n--- TimeFusion\n{a}--- PostgreSQL 15\n{b}\n");
            }
        }
        Assert.True(report.Length == 0, "statements answered differently from PostgreSQL 15:\n" + report);
    }

    /// <summary>Runs psql on <paramref name="script"/> with stdout and stderr in one stream, so errors stay in order.</summary>
    private static async Task<string> RunPsqlAsync(int port, string database, string user, string password, string script, string? options)
    {
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        info.Environment["PGPASSWORD"] = password;
        info.Environment["PGCONNECT_TIMEOUT"] = "10";
        if (options is not null) info.Environment["PGOPTIONS"] = options;
        foreach (var a in new[] { "-c", "exec \"$0\" \"$@\" 2>&1", File.Exists(Protocol.Postgres.PsqlRunner.PsqlPath) ? Protocol.Postgres.PsqlRunner.PsqlPath : "psql",
                     $"host=127.0.0.1 port={port} user={user} dbname={database}", "-X", "-w", "-f", script })
            info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("psql did not start");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"psql on port {port} did not finish the corpus within 120 s");
        }
        return await output;
    }
}
