using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Bench.Ingest;
using TimeFusion.Bench.Limits;
using TimeFusion.Bench.Memory;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Queries;
using TimeFusion.Bench.Recovery;

namespace TimeFusion.Bench.Suite;

/// <summary>
/// <c>suite</c>: TimeFusion against DuckDB and PostgreSQL 15 on the same generated rows, in one run — machine limits,
/// durable ingest, dashboard queries (half flushed, half buffered), recovery, memory — written as a markdown section
/// of BENCHMARKS.md and benchmarks.json in the output folder.
/// </summary>
public static class SuiteCommand
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var options = SuiteOptions.Parse(new BenchArgs(argv));
        if (new BenchArgs(argv).Get("silo-dll") is { } siloDll) SiloProcess.DefaultSiloDll = Path.GetFullPath(siloDll);
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-suite-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(options.OutDirectory);
        var results = new SuiteResults { Machine = MachineInfo.Collect(SuiteOptions.RepoRoot), Options = options };
        var clock = Stopwatch.StartNew();
        PostgresPeer? pg = null;
        try
        {
            Console.WriteLine($"suite: {options.Rows:N0} query rows, {options.IngestRows:N0} rows per ingest run, {options.Runs} runs, parts {string.Join(",", options.Parts)}; work in {root}");
            var sw = Stopwatch.StartNew();
            var ingestSet = await Dataset.GenerateAsync(Path.Combine(root, "ingest.arrow"), options.IngestRows, options.BatchRows, seed: 1);
            var batches = await ingestSet.LoadAsync();
            Console.WriteLine($"generated {ingestSet.Rows:N0} ingest rows in {sw.Elapsed.TotalSeconds:F1} s ({ingestSet.ArrowBytesPerRow:N0} B/row of Arrow)");
            if (options.Postgres)
            {
                if (PostgresPeer.Available)
                {
                    try
                    {
                        pg = await PostgresPeer.StartAsync();
                        Console.WriteLine($"PostgreSQL {pg.Version} on 127.0.0.1:{pg.Port}");
                    }
                    catch (Exception e)
                    {
                        results.Missing.Add($"PostgreSQL peer: did not start ({e.Message.Split('\n')[0]})");
                    }
                }
                else
                {
                    results.Missing.Add("PostgreSQL peer: initdb/pg_ctl not found on PATH");
                }
            }
            else
            {
                results.Missing.Add("PostgreSQL peer: left out (--no-postgres)");
            }

            await Part(results, options, "limits", () => MachineLimits.RunAsync(results, root, batches, options.Runs));
            await Part(results, options, "ingest", () => IngestSuite.RunAsync(results, options, ingestSet, batches, pg, root));
            await Part(results, options, "smallinsert", () => SmallInsertSuite.RunAsync(results, options, batches, pg, root));
            await Part(results, options, "queries", async () =>
            {
                sw.Restart();
                var main = await Dataset.GenerateAsync(Path.Combine(root, "query.arrow"), options.Rows, options.BatchRows, seed: 7);
                var fanOut = await Dataset.GenerateAsync(Path.Combine(root, "fanout.arrow"), options.FanOutRows, options.BatchRows, seed: 11);
                Console.WriteLine($"generated {main.Rows + fanOut.Rows:N0} query rows in {sw.Elapsed.TotalSeconds:F1} s");
                await QuerySuite.RunAsync(results, options, main, fanOut, pg, root);
                if (options.ClickHouse) await ClickHouseRun.RunAsync(results, options, main);
                File.Delete(main.Path);
                File.Delete(fanOut.Path);
            });
            if (pg is not null)
            {
                await pg.DisposeAsync();
                pg = null;
            }
            await Part(results, options, "recovery", () => RecoverySuite.RunAsync(results, options, batches, root));
            await Part(results, options, "acklatency", async () =>
            {
                await AckLatencySuite.RunAsync(results, options, batches, root);
                await SustainedDoPut.RunAsync(results, options, batches, root);
            });
            await Part(results, options, "memory", () => WriterFlood.RunAsync(results, options, batches, root));
            if (!options.ClickHouse) results.Note(ClickHouseRun.Section, "ClickHouse was not asked for (add --clickhouse: installs Debian's clickhouse-server when missing).");
            results.Elapsed = clock.Elapsed;
            MarkdownReport.WriteInto(Path.Combine(options.OutDirectory, "BENCHMARKS.md"), results);
            JsonReport.Write(Path.Combine(options.OutDirectory, "benchmarks.json"), results);
            Console.WriteLine($"suite done in {clock.Elapsed.TotalMinutes:F1} min; wrote {Path.Combine(options.OutDirectory, "BENCHMARKS.md")} and benchmarks.json");
            return 0;
        }
        finally
        {
            if (pg is not null) await pg.DisposeAsync();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task Part(SuiteResults results, SuiteOptions options, string part, Func<Task> run)
    {
        if (!options.Includes(part)) return;
        var sw = Stopwatch.StartNew();
        Console.WriteLine($"== {part}");
        try
        {
            await run();
        }
        catch (Exception e)
        {
            results.Missing.Add($"{part}: failed ({e.GetType().Name}: {e.Message.Split('\n')[0]})");
            Console.Error.WriteLine(e);
        }
        Console.WriteLine($"== {part} took {sw.Elapsed.TotalSeconds:F0} s");
    }
}
