using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Bench.Suite;
using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Limits;

/// <summary>
/// What the machine allows, measured in the same run so ratios mean something: fsync'd sequential append MB/s and
/// fsyncs/s on the data disk, and ParquetSharp's Arrow writer rows/s on the ingest rows — with its defaults, and as
/// TimeFusion's flush uses it (<see cref="TailParquetWriter"/>: per-column dictionary and compression choices, Delta
/// statistics from the arrays), with the nullable columns null in every row left out (<c>Buffer:OmitNullColumns</c>, the
/// default) and with every column written. The fastest is the ceiling for sustained ingest: every row is flushed.
/// </summary>
public static class MachineLimits
{
    public const string Section = "Machine limits";

    public static async Task RunAsync(SuiteResults results, string root, IReadOnlyList<RecordBatch> batches, int runs)
    {
        var appendMb = new List<double>();
        var fsyncs = new List<double>();
        var parquet = new List<double>();
        var flushWriter = new List<double>();
        var flushWriterAll = new List<double>();
        var flushCpu = new List<double>();
        var flushCpuAll = new List<double>();
        var tableShaped = batches.Select(b => Dataset.WithProject(b, "p-bench")).ToList();
        for (var run = 0; run < runs; run++)
        {
            appendMb.Add(AppendMegabytesPerSecond(Path.Combine(root, "fsync-append.bin"), TimeSpan.FromSeconds(2)));
            fsyncs.Add(FsyncsPerSecond(Path.Combine(root, "fsync-small.bin"), TimeSpan.FromSeconds(1)));
            var path = Path.Combine(root, "limit.parquet");
            var clock = Stopwatch.StartNew();
            var rows = await ParquetArrowWriter.WriteAsync(path, batches.ToAsyncEnumerable());
            parquet.Add(rows / clock.Elapsed.TotalSeconds);
            File.Delete(path);
            var folder = Path.Combine(root, "limit-flush");
            // Both ways in every run, alternately, so that the machine's load hits both alike.
            foreach (var omit in new[] { true, false })
            {
                Directory.CreateDirectory(folder);
                // CPU time too: on a machine loaded by other processes it moves far less than the wall-clock rate.
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                clock.Restart();
                var files = TailParquetWriter.Write(tableShaped, OtelLogsAndSpans.Schema, folder, new BufferOptions().MaxStatsStringLength, useThreads: true,
                    CancellationToken.None, omitNullColumns: omit);
                var written = files.Sum(f => f.Rows);
                (omit ? flushWriter : flushWriterAll).Add(written / clock.Elapsed.TotalSeconds);
                (omit ? flushCpu : flushCpuAll).Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / written);
                Directory.Delete(folder, recursive: true);
            }
        }
        results.Add(Section, "data disk", "fsync'd sequential append, 8 MiB writes, MB/s", appendMb);
        results.Add(Section, "data disk", "fsyncs/s (4 KiB appends)", fsyncs);
        results.Add(Section, "ParquetSharp Arrow writer (zstd, threads)", "rows/s", parquet, rows: batches.Sum(b => (long)b.Length), target: "peer figure ~730 k rows/s");
        results.Add(Section, "TimeFusion's flush writer alone (TailParquetWriter: zstd, threads, dictionary per column, Delta statistics)", "rows/s", flushWriter,
            rows: batches.Sum(b => (long)b.Length));
        results.Add(Section, "TimeFusion's flush writer alone, every column written (Buffer:OmitNullColumns=false)", "rows/s", flushWriterAll,
            rows: batches.Sum(b => (long)b.Length));
        results.Add(Section, "TimeFusion's flush writer alone (TailParquetWriter: zstd, threads, dictionary per column, Delta statistics)", "CPU µs/row", flushCpu,
            rows: batches.Sum(b => (long)b.Length));
        results.Add(Section, "TimeFusion's flush writer alone, every column written (Buffer:OmitNullColumns=false)", "CPU µs/row", flushCpuAll,
            rows: batches.Sum(b => (long)b.Length));
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
