using System.Diagnostics;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using TimeFusion.Bench.Suite;
using TimeFusion.Ingest;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// The write path's validation step alone, in process, on one thread: <see cref="BatchValidator.Validate"/> over the
/// suite's full-width otel batches (as the SDK sends them: no project_id) and over 30-row batches of the small
/// statements' 15 columns, each decoded from Arrow IPC bytes as the silo receives them. CPU µs per batch and per row,
/// best and median of the rounds; run it under <c>perf record</c> to see where the time goes.
/// <c>validate [--rows 8130] [--batches 16] [--seconds 5] [--only full|narrow]</c>.
/// </summary>
public static class ValidationProfile
{
    public static Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var rows = args.Int("rows", 8_130);
        var count = args.Int("batches", 16);
        var seconds = args.Double("seconds", 5);
        var generator = new OtelRowGenerator(7, Dataset.Start, rowsPerSecond: 20_000);
        var full = Enumerable.Range(0, count).Select(_ => Decoded(Dataset.WithoutProject(generator.NextBatch(rows)))).ToList();
        var narrow = Enumerable.Range(0, 256).Select(_ => Decoded(Narrow(generator.NextBatch(30)))).ToList();
        var options = new IngestOptions();
        var only = args.Get("only"); // full | narrow: one shape (e.g. under perf)
        foreach (var (key, name, batches) in new[] { ("full", "full width, SDK shape", full), ("narrow", "30 rows x 15 columns, INSERT shape", narrow) })
        {
            if (only is not null && only != key) continue;
            var perBatch = new List<double>();
            var clock = Stopwatch.StartNew();
            var round = 0;
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var n = 0;
                do
                {
                    foreach (var b in batches) BatchValidator.Validate(b, OtelLogsAndSpans.Schema, "p-bench", options);
                    n += batches.Count;
                } while (n < 64);
                perBatch.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / n);
                round++;
            }
            perBatch.Sort();
            var rowsPer = batches.Average(b => (double)b.Length);
            Console.WriteLine($"{name}: {rowsPer:N0} rows/batch, {round} rounds; CPU µs/batch best {perBatch[0]:N1}, median {perBatch[perBatch.Count / 2]:N1}; " +
                $"µs/row best {perBatch[0] / rowsPer:N3}, median {perBatch[perBatch.Count / 2] / rowsPer:N3}");
        }
        return Task.FromResult(0);
    }

    private static RecordBatch Narrow(RecordBatch batch)
    {
        var indexes = SmallRows.ColumnNames.Select(n => batch.Schema.GetFieldIndex(n)).ToArray();
        return new RecordBatch(new Schema(indexes.Select(i => batch.Schema.GetFieldByIndex(i)), null),
            indexes.Select(i => batch.Column(i)), batch.Length);
    }

    private static RecordBatch Decoded(RecordBatch batch)
    {
        using var buffer = new MemoryStream();
        using (var writer = new ArrowStreamWriter(buffer, batch.Schema, leaveOpen: true))
        {
            writer.WriteRecordBatch(batch);
            writer.WriteEnd();
        }
        using var reader = new ArrowStreamReader(new ReadOnlyMemory<byte>(buffer.ToArray()));
        return reader.ReadNextRecordBatch() ?? throw new InvalidDataException("no batch");
    }
}
