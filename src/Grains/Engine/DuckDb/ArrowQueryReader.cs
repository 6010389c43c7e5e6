using Apache.Arrow;
using Apache.Arrow.C;
using DuckDB.NET.Data;
using TimeFusion.Buffer;

namespace TimeFusion.DuckDb;

/// <summary>
/// Runs one SQL statement through <c>duckdb_query_arrow</c> and hands the result out as Arrow record batches
/// (DuckDB produces one Arrow array per DataChunk). The result is materialized by DuckDB; batches are imported
/// zero-copy and stay valid after this reader is disposed (each imported batch owns its native memory).
/// Not thread-safe; the connection must not be used by anything else until the reader is disposed.
/// </summary>
internal sealed unsafe class ArrowQueryReader : IDisposable
{
    private readonly ArrowResultHandle _result;

    private ArrowQueryReader(ArrowResultHandle result, Schema schema)
    {
        _result = result;
        Schema = schema;
    }

    /// <summary>The result's Arrow schema (known even when there are no rows).</summary>
    public Schema Schema { get; }

    /// <summary>Executes <paramref name="sql"/> on <paramref name="connection"/>.</summary>
    /// <exception cref="BufferException">The statement failed.</exception>
    /// <exception cref="ObjectDisposedException">The connection is closed.</exception>
    public static ArrowQueryReader Execute(DuckDBConnection connection, string sql)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        ArrowResultHandle result;
        int state;
        using (var lease = ConnectionLease.Acquire(connection))
            state = DuckDbApi.duckdb_query_arrow(lease.Handle, sql, out result);
        try
        {
            if (state != DuckDbApi.Success)
            {
                var message = result.IsInvalid ? null : DuckDbApi.Text(DuckDbApi.duckdb_query_arrow_error(result), "unknown error");
                throw new BufferException("query failed: " + (message ?? "unknown error"));
            }
            using var exported = new OwnedArrowSchema();
            var pointer = exported.Pointer;
            if (DuckDbApi.duckdb_query_arrow_schema(result, &pointer) != DuckDbApi.Success)
                throw new BufferException("DuckDB could not describe the query result as Arrow");
            var schema = CArrowSchemaImporter.ImportSchema(exported.Pointer);
            var reader = new ArrowQueryReader(result, schema);
            result = null!;
            return reader;
        }
        finally
        {
            result?.Dispose();
        }
    }

    /// <summary>The next batch, or null at the end of the result.</summary>
    public RecordBatch? ReadNext()
    {
        ObjectDisposedException.ThrowIf(_result.IsClosed, this);
        using var array = new OwnedArrowArray();
        var pointer = array.Pointer;
        if (DuckDbApi.duckdb_query_arrow_array(_result, &pointer) != DuckDbApi.Success)
            throw new BufferException("fetching the query result failed: " + DuckDbApi.Text(DuckDbApi.duckdb_query_arrow_error(_result), "unknown error"));
        // At the end DuckDB leaves the struct untouched (release stays null).
        if (array.Pointer->length == 0 && array.IsReleased)
            return null;
        return CArrowArrayImporter.ImportRecordBatch(array.Pointer, Schema);
    }

    public void Dispose() => _result.Dispose();
}
