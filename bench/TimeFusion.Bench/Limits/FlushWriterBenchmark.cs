using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Bench.Suite;
using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Limits;

/// <summary>
/// <c>flushwriter [--rows 1000000] [--rounds 5] [--variants current,…] [--profile-seconds 0]</c>: TimeFusion's flush writer
/// alone (<see cref="TailParquetWriter"/>) on the suite's otel rows, its variants alternated round by round in one
/// process so that the machine's load hits them alike: CPU µs/row (median and best), wall rows/s, file bytes per row.
/// With <c>--profile-seconds N</c> only the first variant runs, in a loop for N seconds (for <c>perf record</c>).
/// </summary>
public static class FlushWriterBenchmark
{
    /// <summary>The variants: a name and how it sets the writer's switches (all reset to their defaults first).</summary>
    private static readonly Dictionary<string, Action> Variants = new(StringComparer.OrdinalIgnoreCase)
    {
        ["current"] = () => { },
        ["array-stats"] = () => TailParquetWriter.StatisticsFromFooter = false,
        ["no-delta-stats"] = () => TailParquetWriter.GatherStatistics = false,
        ["dictionary-everywhere"] = () => TailParquetWriter.PlainNearlyUnique = false,
    };

    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var rows = args.Long("rows", 1_000_000);
        var rounds = args.Int("rounds", 5);
        var names = (args.Get("variants") ?? "current").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var name in names)
            if (!Variants.ContainsKey(name))
            {
                Console.Error.WriteLine($"unknown variant {name}; known: {string.Join(", ", Variants.Keys)}");
                return 2;
            }
        var root = Path.Combine(Path.GetTempPath(), $"tf-flushwriter-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        try
        {
            var set = await Dataset.GenerateAsync(Path.Combine(root, "rows.arrow"), rows, 8192, seed: 1);
            var batches = (await set.LoadAsync()).Select(b => Dataset.WithProject(b, "p-bench")).ToList();
            Console.WriteLine($"Parquet memory pool: {ParquetSharp.MemoryPool.GetDefaultMemoryPool().BackendName}");
            Console.WriteLine($"flushwriter: {rows:N0} otel rows, {rounds} rounds, variants {string.Join(", ", names)}");
            var profileSeconds = args.Int("profile-seconds", 0);
            if (profileSeconds > 0)
            {
                var clock = Stopwatch.StartNew();
                var n = 0;
                while (clock.Elapsed.TotalSeconds < profileSeconds)
                {
                    Measure(names[0], batches, root);
                    n++;
                }
                Console.WriteLine($"{names[0]}: {n} writes in {clock.Elapsed.TotalSeconds:F1} s");
                return 0;
            }
            // A warm-up of each (JIT, pools), then the rounds.
            foreach (var name in names)
                Measure(name, batches, root);
            var figures = names.ToDictionary(n => n, _ => new List<(double Cpu, double Rate, double Bytes)>());
            for (var round = 0; round < rounds; round++)
                foreach (var name in names)
                    figures[name].Add(Measure(name, batches, root));
            Console.WriteLine($"{"variant",-24} {"CPU µs/row median",18} {"best",8} {"rows/s median",14} {"B/row",8}");
            foreach (var name in names)
            {
                var f = figures[name];
                Console.WriteLine($"{name,-24} {Median(f.Select(x => x.Cpu)),18:F3} {f.Min(x => x.Cpu),8:F3} {Median(f.Select(x => x.Rate)),14:N0} {f[0].Bytes,8:F1}");
            }
            return 0;
        }
        finally
        {
            Reset();
            Directory.Delete(root, recursive: true);
        }
    }

    private static (double Cpu, double Rate, double Bytes) Measure(string name, IReadOnlyList<RecordBatch> batches, string root)
    {
        Reset();
        Variants[name]();
        var folder = Path.Combine(root, "out");
        Directory.CreateDirectory(folder);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var files = TailParquetWriter.Write(batches, OtelLogsAndSpans.Schema, folder, new BufferOptions().MaxStatsStringLength, useThreads: true,
            CancellationToken.None, omitNullColumns: true);
        var seconds = clock.Elapsed.TotalSeconds;
        var written = files.Sum(f => f.Rows);
        var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / written;
        var bytes = (double)files.Sum(f => f.Bytes) / written;
        Directory.Delete(folder, recursive: true);
        Reset();
        return (used, written / seconds, bytes);
    }

    private static void Reset()
    {
        TailParquetWriter.GatherStatistics = true;
        TailParquetWriter.PlainNearlyUnique = true;
        TailParquetWriter.StatisticsFromFooter = true;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
