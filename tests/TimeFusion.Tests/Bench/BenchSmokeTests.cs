using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Bench;

/// <summary>
/// A small run of the benchmark harness (<c>TimeFusion.Bench suite</c>) as a child process, into a temp folder:
/// the JSON has the figures, TimeFusion and DuckDB return the same rows for every query, nothing is lost.
/// </summary>
[Collection(BenchSmokeCollection.Name)]
public sealed class BenchSmokeTests
{
    private static string BenchDll => typeof(BenchSmokeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "BenchDll").Value!;

    [Fact]
    public async Task A_small_suite_run_writes_every_figure_and_the_systems_agree_on_the_rows()
    {
        using var output = new TempDirectory();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
        {
            BenchDll, "suite", "--rows", "20000", "--ingest-rows", "20000", "--fanout-rows", "30000", "--runs", "1", "--pairs", "1",
            "--no-postgres", "--only", "ingest,queries,recovery,memory", "--recovery-wal-mb", "16", "--flood-seconds", "2", "--out", output.Path,
        })
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var log = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(170));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the suite did not finish: " + log);
        }
        Assert.True(process.ExitCode == 0, log.ToString());

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output.Path, "benchmarks.json")));
        var figures = json.RootElement.GetProperty("figures").EnumerateArray().ToList();
        double Median(string section, string subject, string metric) => figures
            .Single(f => f.GetProperty("section").GetString() == section && f.GetProperty("subject").GetString() == subject && f.GetProperty("metric").GetString() == metric)
            .GetProperty("median").GetDouble();
        var missing = json.RootElement.GetProperty("missing").EnumerateArray().Select(m => m.GetString()).ToList();
        Assert.DoesNotContain(missing, m => m!.Contains("failed", StringComparison.Ordinal));

        Assert.True(Median("Durable ingest", "TimeFusion SDK, 1 pair", "rows/s") > 0);
        Assert.True(Median("Durable ingest", "TimeFusion COPY (PostgreSQL wire), 1 pair", "rows/s") > 0);
        Assert.True(Median("Durable ingest", "DuckDB appender, row by row, file-backed", "rows/s") > 0);

        // Every dashboard query answered on both sides with the same number of rows (the suite notes any mismatch).
        var queries = figures.Where(f => f.GetProperty("section").GetString() == "Queries" && f.GetProperty("metric").GetString() == "rows").ToList();
        Assert.Equal(7, queries.Count); // six dashboard queries and the fan-out
        Assert.All(queries, q => Assert.True(q.GetProperty("median").GetDouble() > 0, q.GetProperty("subject").GetString()));
        var notes = json.RootElement.GetProperty("notes").EnumerateArray().Select(n => n.GetProperty("text").GetString()!).ToList();
        Assert.DoesNotContain(notes, n => n.Contains("differ", StringComparison.Ordinal));
        Assert.Equal(6, figures.Count(f => f.GetProperty("metric").GetString() == "DuckDB/Parquet warm ms"));

        Assert.Equal(0, Median("Memory", "writer flood: 16 writers, 4 tables, hard limit 256 MiB", "rows lost or extra"));
        Assert.True(File.ReadAllText(Path.Combine(output.Path, "BENCHMARKS.md")).Contains("generated section, begin", StringComparison.Ordinal));
    }
}

/// <summary>
/// The benchmark smoke run times its child process (170 s) and takes most of that on a loaded 2-core machine: it runs
/// alone, after the parallel tests, so real-silo tests (Abuse/…) starting processes at the same time cannot push it over.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BenchSmokeCollection
{
    public const string Name = "bench-smoke";
}
