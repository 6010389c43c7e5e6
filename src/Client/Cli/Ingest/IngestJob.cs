using Apache.Arrow;
using TimeFusion.Client.Cli.Flight;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>Loads files into one table: read rows, convert them in batches, send each batch to its project's DoPut.</summary>
public sealed class IngestJob(FlightConnection connection, string table, string? project, int batchRows)
{
    /// <summary>Bytes of a file read before a batch is sent even when it has fewer rows than the batch size.</summary>
    public const long MaxBatchFileBytes = 16L << 20;

    private Schema? _tableSchema;

    /// <summary>The target table.</summary>
    public string Table { get; } = table;

    /// <summary>Loads one file; returns the rows landed, the bytes read and the projects written.</summary>
    public async Task<(long Rows, long Bytes, IReadOnlyList<string> Projects)> RunAsync(string path, IIngestProgress progress, CancellationToken ct)
    {
        _tableSchema ??= await connection.TableSchemaAsync(Table, ct);
        using var source = Open(path, _tableSchema);
        BatchAssembler assembler;
        try
        {
            assembler = new BatchAssembler(source.Columns, _tableSchema, Table, project);
        }
        catch (FormatException e)
        {
            throw new CliException($"{path}: {e.Message}");
        }
        await using var streams = new ProjectPutStreams(connection, Table, assembler.Schema);
        progress.Start(path, source.TotalBytes);
        long landed = 0, firstRowOfBatch = 1, rowNumber = 0, bytesAtBatchStart = 0;
        // The previous batch is sent (and acknowledged) while the next one is read and converted.
        Task<long>? inFlight = null;
        while (true)
        {
            bool more;
            try
            {
                more = await source.MoveNextAsync();
                if (more)
                {
                    rowNumber++;
                    assembler.Add(source);
                }
            }
            catch (Exception e) when (e is FormatException or RowException)
            {
                if (inFlight is not null) landed += await inFlight; // its own error, if any, comes first
                var where = e is RowException r ? $"{source.Position}, column '{r.Column}'" : source.Position;
                var message = e is UnknownColumnException ? e.Message.Replace("the table", $"table '{Table}'", StringComparison.Ordinal) : e.Message;
                throw new CliException($"{path}, {where}: {message}; {NothingOfBatch(firstRowOfBatch, rowNumber, landed)}");
            }
            if (assembler.Rows > 0 && (!more || assembler.Rows >= batchRows || source.BytesRead - bytesAtBatchStart >= MaxBatchFileBytes))
            {
                var batches = assembler.TakeBatches();
                if (inFlight is not null) landed += await inFlight;
                progress.Report(landed, bytesAtBatchStart);
                inFlight = SendAsync(streams, batches, $"{path}, rows {firstRowOfBatch}–{rowNumber}", landed, ct);
                firstRowOfBatch = rowNumber + 1;
                bytesAtBatchStart = source.BytesRead;
            }
            if (!more) break;
        }
        if (inFlight is not null) landed += await inFlight;
        await streams.CompleteAsync(ct);
        progress.Finish(landed, source.TotalBytes);
        return (landed, source.TotalBytes, streams.Projects.Select(p => p.Length == 0 ? project ?? "default project" : p).Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>Sends one batch's per-project parts; returns the rows acknowledged.</summary>
    private static async Task<long> SendAsync(ProjectPutStreams streams, IReadOnlyList<(string Project, RecordBatch Batch)> batches, string rows,
        long landedBefore, CancellationToken ct)
    {
        long acknowledged = 0;
        try
        {
            foreach (var (p, batch) in batches)
            {
                try
                {
                    acknowledged += await streams.PutAsync(p, batch, ct);
                }
                catch (CliException e)
                {
                    throw new CliException($"{rows}{(p.Length > 0 ? $" (project {p})" : "")}: {e.Message}; {landedBefore + acknowledged} rows landed before");
                }
            }
            return acknowledged;
        }
        finally
        {
            foreach (var (_, batch) in batches) batch.Dispose();
        }
    }

    private static string NothingOfBatch(long first, long current, long landed) =>
        $"nothing of its batch (rows {first}–{current}) was sent; {landed} rows landed before";

    private static IRowSource Open(string path, Schema table)
    {
        try
        {
            return FileFormats.Of(path) switch
            {
                FileFormat.Csv => new CsvRowSource(path),
                FileFormat.Parquet => new ParquetRowSource(path),
                _ => new JsonLinesRowSource(path, table.FieldsList.Select(f => f.Name).Where(n => n != "date").ToList()),
            };
        }
        catch (Exception e) when (e is not CliException and not OutOfMemoryException)
        {
            throw new CliException($"{path}: cannot read it: {e.Message}");
        }
    }
}
