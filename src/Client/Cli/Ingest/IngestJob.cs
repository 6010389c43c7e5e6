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
            catch (RowException e)
            {
                throw new CliException($"{path}, {source.Position}, column '{e.Column}': {e.Message}; {NothingOfBatch(firstRowOfBatch, rowNumber, landed)}");
            }
            catch (UnknownColumnException e)
            {
                throw new CliException($"{path}, {source.Position}: {e.Message.Replace("the table", $"table '{Table}'", StringComparison.Ordinal)}; {NothingOfBatch(firstRowOfBatch, rowNumber, landed)}");
            }
            catch (FormatException e)
            {
                throw new CliException($"{path}, {source.Position}: {e.Message}; {NothingOfBatch(firstRowOfBatch, rowNumber, landed)}");
            }
            if (assembler.Rows > 0 && (!more || assembler.Rows >= batchRows || source.BytesRead - bytesAtBatchStart >= MaxBatchFileBytes))
            {
                foreach (var (p, batch) in assembler.TakeBatches())
                {
                    using (batch)
                    {
                        try
                        {
                            landed += await streams.PutAsync(p, batch, ct);
                        }
                        catch (CliException e)
                        {
                            throw new CliException($"{path}, rows {firstRowOfBatch}–{rowNumber}{(p.Length > 0 ? $" (project {p})" : "")}: {e.Message}; {landed} rows landed before");
                        }
                    }
                }
                firstRowOfBatch = rowNumber + 1;
                bytesAtBatchStart = source.BytesRead;
                progress.Report(landed, source.BytesRead);
            }
            if (!more) break;
        }
        await streams.CompleteAsync(ct);
        progress.Finish(landed, source.TotalBytes);
        return (landed, source.TotalBytes, streams.Projects.Select(p => p.Length == 0 ? project ?? "default project" : p).Order(StringComparer.Ordinal).ToList());
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
