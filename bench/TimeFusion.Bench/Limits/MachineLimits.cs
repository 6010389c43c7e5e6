using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Bench.Suite;

namespace TimeFusion.Bench.Limits;

/// <summary>
/// What the machine allows, measured in the same run so ratios mean something: fsync'd sequential append MB/s and
/// fsyncs/s on the data disk, and ParquetSharp's Arrow writer rows/s on the ingest rows.
/// </summary>
public static class MachineLimits
{
    public const string Section = "Machine limits";

    public static async Task RunAsync(SuiteResults results, string root, IReadOnlyList<RecordBatch> batches, int runs)
    {
        var appendMb = new List<double>();
        var fsyncs = new List<double>();
        var parquet = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            appendMb.Add(AppendMegabytesPerSecond(Path.Combine(root, "fsync-append.bin"), TimeSpan.FromSeconds(2)));
            fsyncs.Add(FsyncsPerSecond(Path.Combine(root, "fsync-small.bin"), TimeSpan.FromSeconds(1)));
            var path = Path.Combine(root, "limit.parquet");
            var clock = Stopwatch.StartNew();
            var rows = await ParquetArrowWriter.WriteAsync(path, batches.ToAsyncEnumerable());
            parquet.Add(rows / clock.Elapsed.TotalSeconds);
            File.Delete(path);
        }
        results.Add(Section, "data disk", "fsync'd sequential append, 8 MiB writes, MB/s", appendMb);
        results.Add(Section, "data disk", "fsyncs/s (4 KiB appends)", fsyncs);
        results.Add(Section, "ParquetSharp Arrow writer (zstd, threads)", "rows/s", parquet, rows: batches.Sum(b => (long)b.Length), target: "peer figure ~730 k rows/s");
    }

    private static double AppendMegabytesPerSecond(string path, TimeSpan duration)
    {
        var chunk = new byte[8 << 20];
        Random.Shared.NextBytes(chunk);
        long written = 0;
        var clock = Stopwatch.StartNew();
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            while (clock.Elapsed < duration)
            {
                file.Write(chunk);
                file.Flush(flushToDisk: true);
                written += chunk.Length;
            }
        }
        var seconds = clock.Elapsed.TotalSeconds;
        File.Delete(path);
        return written / 1e6 / seconds;
    }

    private static double FsyncsPerSecond(string path, TimeSpan duration)
    {
        var chunk = new byte[4096];
        long count = 0;
        var clock = Stopwatch.StartNew();
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            while (clock.Elapsed < duration)
            {
                file.Write(chunk);
                file.Flush(flushToDisk: true);
                count++;
            }
        }
        var seconds = clock.Elapsed.TotalSeconds;
        File.Delete(path);
        return count / seconds;
    }
}
