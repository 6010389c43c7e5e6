using System.Globalization;
using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Flush;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Dml;

/// <summary>
/// Copy-on-write for DML on the Delta side (DESIGN.md §5): every active file is read with DuckDB
/// (<c>read_parquet</c>, with the <c>date</c> column restored from the file's partition value, since exported files
/// omit it) and its matching rows counted; a file without a match is left alone; any other is rewritten — the
/// remaining rows (DELETE) or every row with the SET expressions applied to the matching ones (UPDATE) — sorted by
/// timestamp, zstd, with statistics (the same <c>COPY … RETURN_STATS</c> path a flush takes), and uploaded.
/// Committing the result is the caller's job.
/// </summary>
internal sealed class DmlDeltaRewriter(BufferDatabase database, BufferTable buffer, DeltaTable delta, TableSchema schema, string stagingRoot)
{
    private const string ParquetOptions = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, RETURN_STATS";

    /// <summary>
    /// Prepares (and uploads) the rewrite of <paramref name="snapshot"/>'s files for <paramref name="statement"/>,
    /// reading only the files whose date partition and timestamp statistics overlap <paramref name="time"/> (a range
    /// the predicate implies: files outside it hold no matching row, so skipping them changes nothing).
    /// </summary>
    /// <exception cref="DmlRejectedException">DuckDB failed to evaluate the statement on a file's rows.</exception>
    public async Task<DmlDeltaRewrite> PrepareAsync(DeltaSnapshot snapshot, DmlStatement statement, TimeRange time, CancellationToken cancellationToken)
    {
        var candidates = time.IsEmpty ? []
            : time.IsUnbounded ? snapshot.Files
            : DeltaFilePruning.Select(snapshot, time.FromDate, time.ToDate, time.MinMicros, time.MaxMicros);
        if (candidates.Count == 0)
            return new DmlDeltaRewrite([], [], 0, null, 0);
        var staging = Path.Combine(stagingRoot, "dml-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        Task? rewriting = null;
        try
        {
            var removes = new List<DeltaAction>();
            var adds = new List<DeltaAction>();
            var files = new List<ExportedFile>();
            long matched = 0;
            var now = DateTimeOffset.UtcNow;
            foreach (var add in candidates)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var local = await delta.Store.GetLocalPathAsync(snapshot.ObjectPath(add), cancellationToken);
                var day = PartitionDate(add);
                var added = DeltaSchemaEvolution.AddedColumns(snapshot);
                var rewrite = Task.Run(() => RewriteOne(add, local, day, added, statement, staging, cancellationToken), cancellationToken);
                rewriting = rewrite;
                var (hits, written) = await DmlCancellation.StopWaitingAsync(rewrite, cancellationToken);
                if (hits == 0)
                    continue;
                matched += hits;
                removes.Add(RemoveFile.For(add, now.ToUnixTimeMilliseconds()));
                if (written is null)
                    continue; // every row deleted
                await delta.Store.UploadFileAsync(delta.ObjectPath(written.RelativePath), written.LocalPath, cancellationToken);
                files.Add(written);
                adds.Add(DeltaAddForExport.Create(written, schema, now));
            }
            return new DmlDeltaRewrite([.. removes, .. adds], files, matched, staging, candidates.Count);
        }
        catch
        {
            // A rewrite the statement stopped waiting for may still write there: the directory goes when it ends.
            if (rewriting is { IsCompleted: false } running)
                _ = running.ContinueWith(_ => DeleteStaging(staging), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            else
                DeleteStaging(staging);
            throw;
        }
    }

    private static void DeleteStaging(string staging)
    {
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
    }

    private static DateOnly PartitionDate(AddFile add)
    {
        if (add.PartitionValues.TryGetValue(TableSchema.DateColumn, out var text) && text is not null
            && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            return day;
        throw new DeltaLogCorruptException($"Delta file '{add.Path}' has no valid '{TableSchema.DateColumn}' partition value ('{text}')");
    }

    /// <summary>Counts the matching rows of one file and, when there are any, writes its replacement (null when no row remains).</summary>
    private (long Matched, ExportedFile? Written) RewriteOne(AddFile add, string localPath, DateOnly day, IReadOnlySet<string> added, DmlStatement statement, string staging,
        CancellationToken cancellationToken)
    {
        var dayText = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var dateLiteral = $"DATE '{dayText}'";
        // The file may lack columns null in all its rows (its stats say which) or added by ALTER TABLE: read as NULL.
        var fileColumns = DataFileColumns.Of(schema, [add], added);
        var columns = string.Join(", ", schema.Columns.Select(c => c.Name == TableSchema.DateColumn
            ? $"{dateLiteral} AS {SqlNames.Quote(c.Name)}"
            : fileColumns.Select(c)));
        var relation = $"(SELECT {columns} FROM {fileColumns.Read(schema, [localPath])})";
        var match = statement.MatchSql;

        var pool = database.Connections;
        var connection = pool.Rent();
        var reusable = true;
        try
        {
            long hits, total, nullViolations;
            var violation = statement.NotNullViolationSql(schema) ?? "false";
            // The statement's timeout or cancel interrupts DuckDB (duckdb_interrupt; nothing is logged or committed yet).
            var counts = TimeFusion.DuckDb.DuckDbQueries.Run(connection,
                $"SELECT count(*) FILTER (WHERE {match}), count(*), count(*) FILTER (WHERE {violation}) FROM {relation}", cancellationToken);
            hits = TimeFusion.DuckDb.DuckDbQueries.Int64At(counts, 0);
            total = TimeFusion.DuckDb.DuckDbQueries.Int64At(counts, 1);
            nullViolations = TimeFusion.DuckDb.DuckDbQueries.Int64At(counts, 2);
            if (nullViolations > 0)
                throw new DmlRejectedException($"the UPDATE would set a NOT NULL column to NULL in {nullViolations} rows");
            if (hits == 0)
                return (0, null);
            if (statement.Operation == WalOperation.Delete && hits == total)
                return (hits, null);

            // Columns null in every row of the file stay out of its replacement unless the UPDATE sets them.
            var omitted = database.Options.OmitNullColumns ? fileColumns.Omittable(schema, statement.Assignments.Select(a => a.Key)) : [];
            var exported = schema.Columns.Where(c => c.Name != TableSchema.DateColumn && !omitted.Contains(c.Name)).ToList();
            string select;
            if (statement.Operation == WalOperation.Delete)
            {
                select = $"SELECT {string.Join(", ", exported.Select(c => SqlNames.Quote(c.Name)))} FROM {relation} WHERE NOT {match}";
            }
            else
            {
                var set = statement.Assignments.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
                select = "SELECT " + string.Join(", ", exported.Select(c => set.TryGetValue(c.Name, out var expression)
                    ? $"CASE WHEN {match} THEN CAST(({expression}) AS {ColumnTypeMapping.ToDuckDb(c.Type)}) ELSE {SqlNames.Quote(c.Name)} END AS {SqlNames.Quote(c.Name)}"
                    : SqlNames.Quote(c.Name))) + $" FROM {relation}";
            }
            var relative = $"date={dayText}/part-00000-{Guid.NewGuid():D}-c000.zstd.parquet";
            var path = Path.Combine(staging, relative.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var sql = $"COPY ({select} ORDER BY {SqlNames.Quote(TableSchema.TimestampColumn)}) TO {SqlNames.Literal(path)} ({ParquetOptions})";
            var written = buffer.CopyOne(connection, sql, day, path, relative, cancellationToken, omitted);
            if (statement.Operation == WalOperation.Update ? written.Rows != total : written.Rows != total - hits)
                throw new DmlRejectedException($"rewriting {localPath} wrote {written.Rows} rows, expected {(statement.Operation == WalOperation.Update ? total : total - hits)}");
            return (hits, written);
        }
        catch (OperationCanceledException)
        {
            reusable = DuckDbCommands.TryRollback(connection);
            throw;
        }
        catch (TimeFusion.DuckDb.DuckDbSqlException e)
        {
            reusable = DuckDbCommands.TryRollback(connection);
            throw new DmlRejectedException($"the {statement.Operation.ToString().ToUpperInvariant()} failed on the rows of a Delta file: {e.Message}", e);
        }
        catch (DuckDBException e)
        {
            reusable = DuckDbCommands.TryRollback(connection);
            throw new DmlRejectedException($"the {statement.Operation.ToString().ToUpperInvariant()} failed on the rows of a Delta file: {e.Message}", e);
        }
        finally
        {
            pool.Return(connection, reusable);
        }
    }
}
