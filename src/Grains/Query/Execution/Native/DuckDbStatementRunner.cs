using TimeFusion.Buffer.Native;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.C;

namespace TimeFusion.Query.Execution.Native;

/// <summary>
/// Runs one SQL statement on a DuckDB connection and returns its whole result as Arrow. The statement is prepared,
/// turned into a pending query, and only then executed: DuckDB clears a connection's interrupt flag when a query
/// starts, so an interrupt sent before the start would be lost; from the pending query on, the cancellation token's
/// <c>duckdb_interrupt</c> reaches the running query (a cancellation before that point is seen by the token check).
/// The result is materialized by DuckDB, converted chunk by chunk (<c>duckdb_data_chunk_to_arrow</c>, zero-copy
/// import) and joined into large batches (<see cref="BatchCoalescer"/>). Blocking; call it off the caller's thread.
/// The connection must not be used by anything else meanwhile.
/// </summary>
internal static unsafe class DuckDbStatementRunner
{
    /// <exception cref="QueryExecutionException">DuckDB refused or aborted the statement.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static QueryBatches Run(IntPtr connection, string sql, int targetBatchRows, CancellationToken cancellationToken)
    {
        if (connection == IntPtr.Zero)
            throw new ArgumentException("connection handle is null", nameof(connection));
        cancellationToken.ThrowIfCancellationRequested();
        var text = DuckDbNative.Utf8Z(sql);
        IntPtr prepared = IntPtr.Zero, pending = IntPtr.Zero;
        try
        {
            int state;
            fixed (byte* p = text)
                state = ExecutionNative.duckdb_prepare(connection, p, out prepared);
            if (state != ExecutionNative.Success)
                throw ExecutionErrors.FromDuckDb(prepared == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(ExecutionNative.duckdb_prepare_error(prepared)));
            if (ExecutionNative.duckdb_pending_prepared(prepared, out pending) != ExecutionNative.Success)
                throw ExecutionErrors.FromDuckDb(pending == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(ExecutionNative.duckdb_pending_error(pending)));

            var result = default(ExecutionNative.DuckDbResult);
            try
            {
                int executed;
                using (cancellationToken.Register(static c => ExecutionNative.duckdb_interrupt((IntPtr)c!), connection))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    executed = ExecutionNative.duckdb_execute_pending(pending, &result);
                }
                if (executed != ExecutionNative.Success)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw ExecutionErrors.FromDuckDb(Marshal.PtrToStringUTF8(ExecutionNative.duckdb_result_error(&result)));
                }
                return ReadAll(&result, targetBatchRows, cancellationToken);
            }
            finally
            {
                ExecutionNative.duckdb_destroy_result(&result);
            }
        }
        finally
        {
            if (pending != IntPtr.Zero)
                ExecutionNative.duckdb_destroy_pending(ref pending);
            if (prepared != IntPtr.Zero)
                ExecutionNative.duckdb_destroy_prepare(ref prepared);
        }
    }

    private static QueryBatches ReadAll(ExecutionNative.DuckDbResult* result, int targetBatchRows, CancellationToken cancellationToken)
    {
        var options = ExecutionNative.duckdb_result_get_arrow_options(result);
        try
        {
            var schema = ReadSchema(result, options);
            using var coalescer = new BatchCoalescer(schema, targetBatchRows);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var chunk = ExecutionNative.duckdb_fetch_chunk(*result);
                if (chunk == IntPtr.Zero)
                    break;
                try
                {
                    if (ExecutionNative.duckdb_data_chunk_get_size(chunk) == 0)
                        continue;
                    coalescer.Add(ToBatch(options, chunk, schema));
                }
                finally
                {
                    DuckDbNative.duckdb_destroy_data_chunk(ref chunk);
                }
            }
            // A materialized result has no error once executed; checked anyway so that a failure is never an empty result.
            var error = Marshal.PtrToStringUTF8(ExecutionNative.duckdb_result_error(result));
            if (!string.IsNullOrEmpty(error))
                throw ExecutionErrors.FromDuckDb(error);
            return new QueryBatches(schema, coalescer.Finish());
        }
        finally
        {
            if (options != IntPtr.Zero)
                ExecutionNative.duckdb_destroy_arrow_options(ref options);
        }
    }

    private static Schema ReadSchema(ExecutionNative.DuckDbResult* result, IntPtr options)
    {
        var count = checked((int)ExecutionNative.duckdb_column_count(result));
        var types = new IntPtr[count];
        var names = new IntPtr[count];
        var exported = CArrowSchema.Create();
        try
        {
            for (var i = 0; i < count; i++)
            {
                types[i] = ExecutionNative.duckdb_column_logical_type(result, (ulong)i);
                names[i] = ExecutionNative.duckdb_column_name(result, (ulong)i); // owned by the result
            }
            string? error;
            fixed (IntPtr* t = types)
            fixed (IntPtr* n = names)
                error = DuckDbNative.TakeError(ExecutionNative.duckdb_to_arrow_schema(options, t, n, (ulong)count, exported));
            if (error is not null)
                throw new QueryExecutionException(Wire.SqlState.InternalError, "DuckDB could not describe the result as Arrow: " + error);
            return CArrowSchemaImporter.ImportSchema(exported);
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                if (types[i] != IntPtr.Zero)
                    ExecutionNative.duckdb_destroy_logical_type(ref types[i]);
            }
            CArrowSchema.Free(exported);
        }
    }

    private static RecordBatch ToBatch(IntPtr options, IntPtr chunk, Schema schema)
    {
        var array = CArrowArray.Create();
        try
        {
            var error = DuckDbNative.TakeError(ExecutionNative.duckdb_data_chunk_to_arrow(options, chunk, array));
            if (error is not null)
                throw new QueryExecutionException(Wire.SqlState.InternalError, "DuckDB could not convert a result chunk to Arrow: " + error);
            // The import takes the array over (its release moves to the batch); Free only frees the struct.
            return CArrowArrayImporter.ImportRecordBatch(array, schema);
        }
        finally
        {
            CArrowArray.Free(array);
        }
    }
}
