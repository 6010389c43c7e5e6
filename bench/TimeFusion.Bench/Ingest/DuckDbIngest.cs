using Apache.Arrow;
using DuckDB.NET.Data;
using TimeFusion.Bench.Peers;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// DuckDB, in process: the appender, row by row, into a file-backed database; one appender per 8 K-row batch
/// (closing it commits: DuckDB writes and fsyncs its WAL), so each batch is acknowledged durable.
/// Peak memory: the bench process's resident peak during the run above its resident size at the start.
/// </summary>
public static class DuckDbIngest
{
    public static async Task<IngestRun> RunAsync(IReadOnlyList<RecordBatch> batches, long arrowBytes, string root, string project)
    {
        var path = Path.Combine(root, $"duck-{Guid.NewGuid():N}.duckdb");
        try
        {
            using var connection = new DuckDBConnection($"DataSource={path}");
            connection.Open();
            using (var cmd = connection.CreateCommand())
            {
                cmd.CommandText = $"SET threads = {Environment.ProcessorCount}; CREATE TABLE otel ({OtelLogsAndSpans.Schema.ToDuckDbColumns()})";
                cmd.ExecuteNonQuery();
            }
            var table = OtelLogsAndSpans.Schema;
            var schema = batches[0].Schema;
            // Appender columns are in table order; map each to the batch column (or the constant project).
            var map = table.Columns.Select(c => (c.Type, Index: schema.GetFieldIndex(c.Name))).ToArray();
            var baseline = ResetPeak();
            var (elapsed, latencies) = await ConcurrentWriters.RunAsync(batches.Count, 1, i =>
            {
                using var appender = connection.CreateAppender("otel");
                var batch = batches[i];
                for (var r = 0; r < batch.Length; r++)
                {
                    var row = appender.CreateRow();
                    foreach (var (type, index) in map)
                    {
                        if (index < 0)
                        {
                            row.AppendValue(project);
                            continue;
                        }
                        var array = batch.Column(index);
                        if (array.IsNull(r))
                        {
                            row.AppendNullValue();
                            continue;
                        }
                        switch (type)
                        {
                            case ColumnType.Utf8 or ColumnType.Json: row.AppendValue(((StringArray)array).GetString(r)); break;
                            case ColumnType.Boolean: row.AppendValue(((BooleanArray)array).GetValue(r)); break;
                            case ColumnType.Int32: row.AppendValue(((Int32Array)array).GetValue(r)); break;
                            case ColumnType.Int64: row.AppendValue(((Int64Array)array).GetValue(r)); break;
                            case ColumnType.Float64: row.AppendValue(((DoubleArray)array).GetValue(r)); break;
                            case ColumnType.TimestampUs:
                                row.AppendValue((DateTimeOffset?)new DateTimeOffset(DateTime.UnixEpoch.Ticks + ((TimestampArray)array).GetValue(r)!.Value * 10, TimeSpan.Zero));
                                break;
                            case ColumnType.Date:
                                row.AppendValue((DateOnly?)DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + ((Date32Array)array).GetValue(r)!.Value));
                                break;
                            case ColumnType.Utf8List:
                                var list = (ListArray)array;
                                var values = (StringArray)list.Values;
                                var items = new List<string>(list.GetValueLength(r));
                                for (var k = list.ValueOffsets[r]; k < list.ValueOffsets[r + 1]; k++) items.Add(values.GetString(k));
                                row.AppendValue(items);
                                break;
                            default: throw new NotSupportedException(type.ToString());
                        }
                    }
                    row.EndRow();
                }
                appender.Close();
                return Task.CompletedTask;
            });
            var peak = Math.Max(0, ProcessMemory.PeakBytes(Environment.ProcessId) - baseline);
            return new IngestRun(batches.Sum(b => (long)b.Length), arrowBytes, elapsed, latencies, peak);
        }
        finally
        {
            foreach (var f in Directory.GetFiles(root, Path.GetFileName(path) + "*")) File.Delete(f);
        }
    }

    /// <summary>Resets this process's VmHWM (Linux clear_refs 5) and returns its resident size now.</summary>
    private static long ResetPeak()
    {
        GC.Collect();
        try
        {
            File.WriteAllText($"/proc/{Environment.ProcessId}/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Peak then covers the whole process life; the figure says "above the start".
        }
        return ProcessMemory.CurrentBytes(Environment.ProcessId);
    }
}
