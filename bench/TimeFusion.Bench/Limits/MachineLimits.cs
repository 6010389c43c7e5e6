using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Bench.Ingest;
using TimeFusion.Bench.Suite;
using TimeFusion.Ingest;
using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Limits;

/// <summary>
/// What the machine allows, measured in the same run so ratios mean something: fsync'd sequential append MB/s and
/// fsyncs/s on the data disk, and ParquetSharp's Arrow writer rows/s on the ingest rows — with its defaults, and as
/// TimeFusion's flush uses it (<see cref="TailParquetWriter"/>: per-column dictionary and compression choices, Delta
/// statistics from the files' footers), with the nullable columns null in every row left out (<c>Buffer:OmitNullColumns</c>, the
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
        var tableShaped = batches.Select(b => Dataset.WithProject(b, "p-bench")).ToList();
        // The rows of the small statements (COPY CSV, INSERT): 15 columns given, the others null unless filled from the
        // JSON attributes, as the silo's validation makes them.
        var narrow = batches.Select(Narrow).ToList();
        var full = new FlushWriterFigures();
        var small = new FlushWriterFigures();
        for (var run = 0; run < runs; run++)
        {
            appendMb.Add(AppendMegabytesPerSecond(Path.Combine(root, "fsync-append.bin"), TimeSpan.FromSeconds(2)));
            fsyncs.Add(FsyncsPerSecond(Path.Combine(root, "fsync-small.bin"), TimeSpan.FromSeconds(1)));
            var path = Path.Combine(root, "limit.parquet");
            var clock = Stopwatch.StartNew();
            var rows = await ParquetArrowWriter.WriteAsync(path, batches.ToAsyncEnumerable());
            parquet.Add(rows / clock.Elapsed.TotalSeconds);
            File.Delete(path);
            full.Measure(tableShaped, Path.Combine(root, "limit-flush"));
            small.Measure(narrow, Path.Combine(root, "limit-flush"));
        }
        results.Add(Section, "data disk", "fsync'd sequential append, 8 MiB writes, MB/s", appendMb);
        results.Add(Section, "data disk", "fsyncs/s (4 KiB appends)", fsyncs);
        results.Add(Section, "ParquetSharp Arrow writer (zstd, threads)", "rows/s", parquet, rows: batches.Sum(b => (long)b.Length), target: "peer figure ~730 k rows/s");
        full.Report(results, "", batches.Sum(b => (long)b.Length));
        small.Report(results, ", the 15 columns of the small statements", batches.Sum(b => (long)b.Length));
    }

    /// <summary>A batch reduced to <see cref="SmallRows.ColumnNames"/>, validated into the table's shape as the silo would.</summary>
    private static RecordBatch Narrow(RecordBatch batch)
    {
        var indexes = SmallRows.ColumnNames.Select(n => batch.Schema.GetFieldIndex(n)).ToArray();
        var reduced = new RecordBatch(new Schema(indexes.Select(i => batch.Schema.GetFieldByIndex(i)), null), indexes.Select(i => batch.Column(i)), batch.Length);
        return BatchValidator.Validate(reduced, OtelLogsAndSpans.Schema, "p-bench", new IngestOptions()).Batch;
    }

    /// <summary>
    /// TimeFusion's flush writer alone on the same rows with the columns null in every row left out
    /// (<c>Buffer:OmitNullColumns</c>, the default) and with every column written, alternately, so that the machine's
    /// load hits both alike; rows/s and CPU µs/row (on a machine loaded by other processes the CPU time moves far less).
    /// </summary>
    private sealed class FlushWriterFigures
    {
        private readonly List<double> _rate = [], _rateAll = [], _cpu = [], _cpuAll = [];

        public void Measure(IReadOnlyList<RecordBatch> batches, string folder)
        {
            foreach (var omit in new[] { true, false })
            {
                Directory.CreateDirectory(folder);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                var files = TailParquetWriter.Write(batches, OtelLogsAndSpans.Schema, folder, new BufferOptions().MaxStatsStringLength, useThreads: true,
                    CancellationToken.None, omitNullColumns: omit);
                var written = files.Sum(f => f.Rows);
                (omit ? _rate : _rateAll).Add(written / clock.Elapsed.TotalSeconds);
                (omit ? _cpu : _cpuAll).Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / written);
                Directory.Delete(folder, recursive: true);
            }
        }

        public void Report(SuiteResults results, string rowsNote, long rows)
        {
            var on = $"TimeFusion's flush writer alone (TailParquetWriter: zstd, threads, dictionary per column, Delta statistics{rowsNote})";
            var off = $"TimeFusion's flush writer alone, every column written (Buffer:OmitNullColumns=false{rowsNote})";
            results.Add(Section, on, "rows/s", _rate, rows: rows);
            results.Add(Section, off, "rows/s", _rateAll, rows: rows);
            results.Add(Section, on, "CPU µs/row", _cpu, rows: rows);
            results.Add(Section, off, "CPU µs/row", _cpuAll, rows: rows);
        }
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
