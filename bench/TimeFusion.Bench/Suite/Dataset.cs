using Apache.Arrow;
using Apache.Arrow.Ipc;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Suite;

/// <summary>
/// Generated <c>otel_logs_and_spans</c> rows (a seed, spread over one day) kept in an Arrow IPC file, so every
/// system reads the very same rows without generating them again. Batches carry no <c>project_id</c> column (the
/// target project fills it in), so one batch can go to any project.
/// </summary>
public sealed class Dataset
{
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
    public static DateTimeOffset End => Start.AddDays(1);

    public string Path { get; }
    public long Rows { get; }
    public int BatchRows { get; }
    public long ArrowBytes { get; private set; }

    private Dataset(string path, long rows, int batchRows)
    {
        Path = path;
        Rows = rows;
        BatchRows = batchRows;
    }

    public long Batches => (Rows + BatchRows - 1) / BatchRows;

    public double ArrowBytesPerRow => (double)ArrowBytes / Rows;

    /// <summary>Generates <paramref name="rows"/> rows with <paramref name="seed"/> into <paramref name="path"/>.</summary>
    public static async Task<Dataset> GenerateAsync(string path, long rows, int batchRows, int seed)
    {
        var set = new Dataset(path, rows, batchRows);
        var generator = new OtelRowGenerator(seed, Start, rowsPerSecond: rows / 86_400.0);
        await using var stream = File.Create(path);
        ArrowFileWriter? writer = null;
        try
        {
            for (long written = 0; written < rows; written += batchRows)
            {
                var batch = WithoutProject(generator.NextBatch((int)Math.Min(batchRows, rows - written)));
                set.ArrowBytes += ArrowSize.Of(batch);
                writer ??= new ArrowFileWriter(stream, batch.Schema);
                await writer.WriteRecordBatchAsync(batch);
            }
            if (writer is not null) await writer.WriteEndAsync();
        }
        finally
        {
            writer?.Dispose();
        }
        return set;
    }

    /// <summary>Reads the batches in order.</summary>
    public async IAsyncEnumerable<RecordBatch> ReadAsync()
    {
        await using var stream = File.OpenRead(Path);
        using var reader = new ArrowFileReader(stream);
        while (await reader.ReadNextRecordBatchAsync() is { } batch)
            yield return batch;
    }

    /// <summary>Reads batches [<paramref name="from"/>, <paramref name="to"/>) (random access into the file).</summary>
    public async IAsyncEnumerable<RecordBatch> ReadAsync(int from, int to)
    {
        await using var stream = File.OpenRead(Path);
        using var reader = new ArrowFileReader(stream);
        for (var i = from; i < to; i++)
            yield return await reader.ReadRecordBatchAsync(i) ?? throw new InvalidDataException($"batch {i} missing");
    }

    public async Task<List<RecordBatch>> LoadAsync()
    {
        var list = new List<RecordBatch>();
        await foreach (var b in ReadAsync()) list.Add(b);
        return list;
    }

    public static RecordBatch WithoutProject(RecordBatch batch)
    {
        var index = batch.Schema.GetFieldIndex(TableSchema.ProjectColumn);
        if (index < 0) return batch;
        var fields = batch.Schema.FieldsList.Where((_, i) => i != index).ToList();
        var arrays = batch.Arrays.Where((_, i) => i != index).ToList();
        return new RecordBatch(new Schema(fields, null), arrays, batch.Length);
    }

    /// <summary>The batch in the table's shape again (what the validator makes of it): <paramref name="project"/> in every row.</summary>
    public static RecordBatch WithProject(RecordBatch batch, string project)
    {
        if (batch.Schema.GetFieldIndex(TableSchema.ProjectColumn) >= 0) return batch;
        var schema = OtelLogsAndSpans.Schema.ToArrowSchema();
        var index = schema.GetFieldIndex(TableSchema.ProjectColumn);
        var values = new StringArray.Builder().Reserve(batch.Length);
        for (var i = 0; i < batch.Length; i++) values.Append(project);
        var arrays = batch.Arrays.ToList();
        arrays.Insert(index, values.Build());
        return new RecordBatch(schema, arrays, batch.Length);
    }
}
