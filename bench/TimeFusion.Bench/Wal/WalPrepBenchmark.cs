using System.Diagnostics;
using System.Globalization;
using TimeFusion.Bench.Suite;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Bench.Wal;

/// <summary>
/// <c>walprep [--tables 4] [--rate 24] [--entry-bytes 5400000] [--seconds 20] [--rounds 2] [--modes inline,background]
/// [--dir PATH]</c>: the Direct WAL's own acknowledgement latency with its preparation on the writer loop (<c>inline</c>,
/// session 15: the loop zero-fills four groups ahead and fdatasyncs it before the next group) or in the background
/// (<c>background</c>, session 16). Per table one real <see cref="WriteAheadLog"/> (Direct, per-commit sync, 64 MiB
/// segments) gets WAL-entry-sized appends (an 8 K-row otel batch's entry is 5.4 MB) on an open-loop schedule
/// (<c>--rate</c> entries/s over all tables); latency = acknowledged − scheduled. Modes alternate within each round.
/// </summary>
public static class WalPrepBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var a = new BenchArgs(args);
        var tables = a.Int("tables", 4);
        var rate = a.Double("rate", 24);
        var entryBytes = a.Int("entry-bytes", 5_400_000);
        var seconds = a.Double("seconds", 20);
        var rounds = a.Int("rounds", 2);
        var modes = (a.Get("modes") ?? "inline,background").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var root = a.Get("dir") ?? Path.Combine(Path.GetTempPath(), "tf-bench-walprep-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var entry = new byte[entryBytes];
        new Random(1).NextBytes(entry);
        entry.AsSpan(0, 4).Clear();
        Console.WriteLine(FormattableString.Invariant(
            $"# WAL preparation: {tables} tables, {rate:N1} entries/s of {entryBytes / 1e6:N1} MB ({rate * entryBytes / 1e6:N0} MB/s), {seconds:N0} s each, {rounds} rounds; {root}"));
        Console.WriteLine("| round | mode | load | ack p50 / p90 / p99 / max ms | entries |");
        Console.WriteLine("|---|---|---|---|---:|");
        var pooled = modes.ToDictionary(m => m, _ => new List<double>());
        try
        {
            for (var round = 1; round <= rounds; round++)
            foreach (var mode in round % 2 == 1 ? modes : modes.Reverse())
            {
                var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
                var dir = Path.Combine(root, $"{mode}-{round}");
                var samples = await RunOneAsync(dir, mode == "inline", entry, rate, tables, seconds);
                Directory.Delete(dir, recursive: true);
                pooled[mode].AddRange(samples);
                Console.WriteLine(Row(round.ToString(CultureInfo.InvariantCulture), mode, load, samples));
            }
            foreach (var mode in modes) Console.WriteLine(Row("all", mode, "", pooled[mode]));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        return 0;
    }

    private static string Row(string round, string mode, string load, List<double> samples)
    {
        double P(double q) => Stats.Percentile(samples, q);
        return FormattableString.Invariant($"| {round} | {mode} | {load} | {P(.5):F1} / {P(.9):F1} / {P(.99):F1} / {samples.Max():F1} | {samples.Count} |");
    }

    private static async Task<List<double>> RunOneAsync(string dir, bool inline, byte[] entry, double rate, int tables, double seconds)
    {
        var storage = new LocalWalStorage(dir);
        var options = new WalOptions { WriteMode = WalWriteMode.Direct, PrepareInline = inline };
        var logs = await Task.WhenAll(Enumerable.Range(0, tables).Select(t => WriteAheadLog.OpenAsync(new TableId("bench", $"t{t}"), storage, options)));
        var interval = TimeSpan.FromSeconds(tables / rate);
        var count = (int)(seconds * rate / tables);
        var start = Stopwatch.GetTimestamp();
        try
        {
            var perTable = await Task.WhenAll(Enumerable.Range(0, tables).Select(async t =>
            {
                var mine = new List<double>(count);
                var offset = interval * t / tables;
                var pending = new List<Task<double>>();
                for (var k = 0; k < count; k++)
                {
                    var due = offset + interval * k;
                    var wait = due - Stopwatch.GetElapsedTime(start);
                    if (wait > TimeSpan.Zero) await Task.Delay(wait);
                    // Open loop: the next append is not held back by this one's acknowledgement.
                    pending.Add(AppendAsync(logs[t], entry, start, due));
                }
                return await Task.WhenAll(pending);
            }));
            return perTable.SelectMany(x => x).ToList();
        }
        finally
        {
            foreach (var log in logs) await log.DisposeAsync();
        }
    }

    private static async Task<double> AppendAsync(WriteAheadLog log, byte[] entry, long start, TimeSpan due)
    {
        await log.AppendAsync(WalOperation.Insert, entry);
        return (Stopwatch.GetElapsedTime(start) - due).TotalMilliseconds;
    }
}
