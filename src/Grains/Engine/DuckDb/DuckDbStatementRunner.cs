using Apache.Arrow;
using Apache.Arrow.C;
using DuckDB.NET.Data;
using TimeFusion.Wire;

namespace TimeFusion.DuckDb;

/// <summary>
/// Runs one SQL statement on a DuckDB connection and returns its whole result as Arrow. The statement is prepared,
/// turned into a pending query, and only then executed: DuckDB clears a connection's interrupt flag when a query
/// starts, so an interrupt sent before the start would be lost; from the pending query on, the cancellation token's
/// <c>duckdb_interrupt</c> reaches the running query (a cancellation before that point is seen by the token check).
/// The result streams from DuckDB (each chunk is computed as it is fetched), converted chunk by chunk (<c>duckdb_data_chunk_to_arrow</c>, zero-copy
/// import) and joined into large batches (<see cref="BatchCoalescer"/>). Blocking; call it off the caller's thread.
/// The connection must not be used by anything else meanwhile.
/// </summary>
internal static unsafe class DuckDbStatementRunner
{
    /// <exception cref="DuckDbSqlException">DuckDB refused or aborted the statement.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The connection is closed.</exception>
    /// <remarks><paramref name="maxResultBytes"/>: the most result bytes the statement may hold (0: no limit); past it the
    /// statement fails with 53200 naming <paramref name="limitSetting"/> and what it read is freed.</remarks>
    public static ArrowBatches Run(DuckDBConnection connection, string sql, int targetBatchRows, CancellationToken cancellationToken,
        long maxResultBytes = 0, string limitSetting = "TimeFusion:Execution:MaxResultBytes")
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        using var lease = ConnectionLease.Acquire(connection);
        cancellationToken.ThrowIfCancellationRequested();
        using var prepared = Prepare(lease.Handle, sql);
        // Streaming: DuckDB produces each chunk as it is fetched instead of materializing the whole result first, so a
        // statement holds what it has read (bounded by maxResultBytes), not its whole result, and the first chunk is early.
        if (DuckDbApi.duckdb_pending_prepared_streaming(prepared, out var pending) != DuckDbApi.Success)
        {
            using (pending)
                throw DuckDbErrorTranslation.ToException(pending.IsInvalid ? null : DuckDbApi.Text(DuckDbApi.duckdb_pending_error(pending), "unknown DuckDB error"));
        }
        using (pending)
        {
            using var result = new DuckDbResultHandle();
            // The interrupt covers execution and every fetch: a streaming result runs the query as it is read.
            using var interrupt = cancellationToken.Register(static c => DuckDbApi.duckdb_interrupt((IntPtr)c!), lease.Handle);
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (DuckDbApi.duckdb_execute_pending(pending, result) != DuckDbApi.Success)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw DuckDbErrorTranslation.ToException(DuckDbApi.Text(DuckDbApi.duckdb_result_error(result), "unknown DuckDB error"));
                }
                return ReadAll(result, targetBatchRows, maxResultBytes, limitSetting, cancellationToken);
            }
            catch (DuckDbSqlException e) when (e.SqlState == SqlState.OutOfMemory)
            {
                // A statement that ran out of memory leaves freed blocks the allocator keeps: hand them back to the system.
                ProcessMemoryLimit.ReleaseFreeMemory();
                throw;
            }
        }
    }

    /// <summary>Prepares <paramref name="sql"/>; DuckDB's error becomes a <see cref="DuckDbSqlException"/>.</summary>
    internal static PreparedStatementHandle Prepare(IntPtr connection, string sql)
    {
        if (DuckDbApi.duckdb_prepare(connection, sql, out var prepared) == DuckDbApi.Success && !prepared.IsInvalid)
            return prepared;
        using (prepared)
            throw DuckDbErrorTranslation.ToException(prepared.IsInvalid ? null : DuckDbApi.Text(DuckDbApi.duckdb_prepare_error(prepared), "unknown DuckDB error"));
    }

    private static ArrowBatches ReadAll(DuckDbResultHandle result, int targetBatchRows, long maxResultBytes, string limitSetting, CancellationToken cancellationToken)
    {
        long bytes = 0;
        using var options = DuckDbApi.duckdb_result_get_arrow_options(result);
        var schema = ReadSchema(result, options);
        using var coalescer = new BatchCoalescer(schema, targetBatchRows);
        var value = result.Value;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var chunk = DuckDbApi.duckdb_fetch_chunk(value);
            if (chunk.IsInvalid)
                break;
            if (DuckDbApi.duckdb_data_chunk_get_size(chunk) == 0)
                continue;
            var batch = ToBatch(options, chunk, schema);
            bytes += Ingest.ArrowSize.Of(batch);
            coalescer.Add(batch);
            if (maxResultBytes > 0 && bytes > maxResultBytes)
                throw new DuckDbSqlException(SqlState.OutOfMemory,
                    $"out of memory: the statement's result holds more than {maxResultBytes} bytes ({limitSetting})");
        }
        // A streaming result reports a failure (an interrupt, out of memory) as the end of its chunks: check it, so that a
        // failure is never a short result.
        var error = DuckDbApi.Text(DuckDbApi.duckdb_result_error(result), "");
        if (!string.IsNullOrEmpty(error))
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw DuckDbErrorTranslation.ToException(error);
        }
        return new ArrowBatches(schema, coalescer.Finish());
    }

    internal static Schema ReadSchema(DuckDbResultHandle result, ArrowOptionsHandle options)
    {
        var count = checked((int)DuckDbApi.duckdb_column_count(result));
        var types = new LogicalTypeHandle[count];
        var rawTypes = new IntPtr[count];
        var names = new IntPtr[count];
        using var exported = new OwnedArrowSchema();
        try
        {
            for (var i = 0; i < count; i++)
            {
                types[i] = DuckDbApi.duckdb_column_logical_type(result, (ulong)i);
                rawTypes[i] = types[i].DangerousGetHandle(); // kept alive by types[i] until the finally below
                names[i] = DuckDbApi.duckdb_column_name(result, (ulong)i); // owned by the result
            }
            string? error;
            fixed (IntPtr* t = rawTypes)
            fixed (IntPtr* n = names)
                error = DuckDbApi.TakeError(DuckDbApi.duckdb_to_arrow_schema(options, t, n, (ulong)count, exported.Pointer));
            if (error is not null)
                throw new DuckDbSqlException(DuckDbErrorTranslation.InternalError, "DuckDB could not describe the result as Arrow: " + error);
            return CArrowSchemaImporter.ImportSchema(exported.Pointer);
        }
        finally
        {
            foreach (var t in types)
                t?.Dispose();
        }
    }

    internal static RecordBatch ToBatch(ArrowOptionsHandle options, DataChunkHandle chunk, Schema schema)
    {
        using var array = new OwnedArrowArray();
        var error = DuckDbApi.TakeError(DuckDbApi.duckdb_data_chunk_to_arrow(options, chunk, array.Pointer));
        if (error is not null)
            throw error.Contains("Out of Memory", StringComparison.Ordinal)
                ? new DuckDbSqlException(SqlState.OutOfMemory, DuckDbErrorTranslation.OutOfMemoryText, error)
                : new DuckDbSqlException(DuckDbErrorTranslation.InternalError, "DuckDB could not convert a result chunk to Arrow: " + error);
        // The import takes the array over (its release moves to the batch); disposing frees only the struct.
        return CArrowArrayImporter.ImportRecordBatch(array.Pointer, schema);
    }
}
