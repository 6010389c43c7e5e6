using Apache.Arrow;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Suite;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// <c>doputab --variants name=dll[;Key=Value…],… [--pairs 16] [--rounds 2] [--rows 500000] [--doors doput,sdk] [--depths 1,2] [--warmups flush,keep] [--writers library,timefusion]</c>:
/// the suite's Flight DoPut burst (<see cref="TimeFusionDoPutIngest"/>, once per writer depth: unacknowledged batches per
/// writer) — and, with <c>--doors</c>, the SDK's burst on the same rows, pairs and writers — for each variant in turn, round
/// after round, so that builds, settings, depths and the two doors are compared back to back on a loaded machine (rows/s,
/// ack p50/p99, the silo's peak memory, CPU per row of the silo and of the bench's clients, DoPut's write time p50, the
/// flushes the silo logged during the burst). <c>--warmups keep</c> leaves the pairs' warm-up rows buffered, as before
/// session 16 (<see cref="PairWarmup"/>); <c>flush</c>, the default, flushes them before the burst. <c>--writers</c> picks
/// whose DoPut writer the bench's clients use (<see cref="FlightPutWriter"/>: Apache.Arrow.Flight's, the default, or the
/// command line's <c>FlightPutCall</c>); each DoPut run is repeated per writer.
/// </summary>
public static class DoPutAb
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var variants = (args.Get("variants") ?? throw new ArgumentException("--variants name=dll[;Key=Value…],…"))
            .Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(v =>
            {
                var (name, rest) = (v[..v.IndexOf('=')], v[(v.IndexOf('=') + 1)..]);
                var parts = rest.Split(';');
                var extra = parts.Skip(1).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
                return (Name: name, Dll: Path.GetFullPath(parts[0]), Extra: extra);
            }).ToList();
        var pairs = args.Int("pairs", 16);
        var rounds = args.Int("rounds", 2);
        var rows = args.Long("rows", 500_000);
        var doors = (args.Get("doors") ?? "doput").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var depths = (args.Get("depths") ?? TimeFusionDoPutIngest.DefaultDepth.ToString()).Split(',').Select(int.Parse).ToArray();
        var warmups = (args.Get("warmups") ?? "flush").Split(',', StringSplitOptions.RemoveEmptyEntries);
        if (warmups.FirstOrDefault(w => w is not ("flush" or "keep")) is { } badWarmup) throw new ArgumentException($"unknown warmup '{badWarmup}' (flush, keep)");
        var writers = (args.Get("writers") ?? "library").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w switch
            {
                "library" => FlightPutWriter.Library,
                "timefusion" => FlightPutWriter.TimeFusion,
                _ => throw new ArgumentException($"unknown writer '{w}' (library, timefusion)"),
            }).ToArray();
        if (doors.FirstOrDefault(d => d is not ("doput" or "sdk")) is { } unknown) throw new ArgumentException($"unknown door '{unknown}' (doput, sdk)");
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-doputab-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var set = await Dataset.GenerateAsync(Path.Combine(root, "rows.arrow"), rows, 8192, seed: 1);
        var batches = await set.LoadAsync();
        Console.WriteLine($"doputab: {rows:N0} rows, {pairs} pairs, {rounds} rounds");
        Console.WriteLine("| round | variant | door | rows/s | ack p50 ms | ack p99 ms | peak MiB | silo CPU µs/row | client CPU µs/row | write p50 ms | flushes (rows) | load average |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (name, dll, extra) in variants)
            {
                foreach (var warmup in warmups)
                foreach (var (door, depth, writer) in doors.SelectMany(d => d == "sdk"
                             ? [(d, 1, FlightPutWriter.Library)]
                             : depths.SelectMany(n => writers.Select(w => (d, n, w)))))
                {
                    var flushWarmup = warmup == "flush";
                    SiloProcess.DefaultSiloDll = dll;
                    var cpu = default(BurstCpu);
                    var sends = (IReadOnlyList<double>)[];
                    var flushes = "";
                    void Flushes(BurstFlushes f) => flushes = $"{f.Count} ({f.Rows:N0})";
                    var run = door == "sdk"
                        ? await SdkAsync(batches, set.ArrowBytes, pairs, root, extra, c => cpu = c, Flushes, flushWarmup)
                        : await TimeFusionDoPutIngest.RunAsync(batches, set.ArrowBytes, pairs, root, extra, c => cpu = c, depth, s => sends = s, Flushes, flushWarmup, writer);
                    var sorted = run.LatenciesMs.Order().ToArray();
                    var write = sends.Count == 0 ? "" : sends.Order().ElementAt(sends.Count / 2).ToString("N0");
                    var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
                    Console.WriteLine($"| {round} | {name}{(warmups.Length > 1 ? $", warm-up {warmup}" : "")} | {(door == "sdk" ? door : $"doput, depth {depth}, {(writer == FlightPutWriter.Library ? "library" : "timefusion")} writer")} | {run.RowsPerSecond:N0} | {sorted[sorted.Length / 2]:N0} | {sorted[(int)(sorted.Length * 0.99)]:N0} | " +
                                      $"{run.PeakMemoryBytes / 1048576.0:N0} | {cpu.Silo.TotalMicroseconds / run.Rows:N2} | {cpu.Client.TotalMicroseconds / run.Rows:N2} | {write} | {flushes} | {load} |");
                }
            }
        }
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        return 0;
    }

    // The suite's SDK burst (TimeFusionSdkIngest) with the variant's settings and the CPU readings.
    private static async Task<IngestRun> SdkAsync(IReadOnlyList<RecordBatch> batches, long arrowBytes, int pairs, string root,
        IReadOnlyDictionary<string, string> extra, Action<BurstCpu> cpu, Action<BurstFlushes> flushes, bool flushWarmup)
    {
        var settings = SiloSettings.Burst();
        foreach (var (k, v) in extra) settings[k] = v;
        await using var silo = SiloProcess.Start(Path.Combine(root, $"silo-sdk-{pairs}-{Guid.NewGuid():N}"), settings);
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        var client = await silo.ClientAsync(Caller.Admin());
        await PairWarmup.RunAsync(client, pairs, batches[0], flushWarmup);
        var flushed = new BurstFlushes(silo) { Counting = true };
        var before = BurstCpu.Now(silo);
        var (elapsed, latencies) = await ConcurrentWriters.RunAsync(batches.Count, TimeFusionSdkIngest.Writers(pairs),
            i => client.InsertAsync($"p{i % pairs}", OtelLogsAndSpans.TableName, batches[i]));
        cpu(BurstCpu.Now(silo) - before);
        flushed.Counting = false;
        flushes(flushed);
        var peak = silo.PeakRssBytes;
        await silo.StopAsync();
        return new IngestRun(batches.Sum(b => (long)b.Length), arrowBytes, elapsed, latencies, peak);
    }
}
