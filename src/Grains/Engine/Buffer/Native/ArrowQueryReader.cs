using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.C;

namespace TimeFusion.Buffer.Native;

/// <summary>
/// Runs one SQL statement through <c>duckdb_query_arrow</c> and hands the result out as Arrow record batches
/// (DuckDB produces one Arrow array per DataChunk). The result is materialized by DuckDB; batches are imported
/// zero-copy and stay valid after this reader is disposed (each imported batch owns its native memory).
/// Not thread-safe; the connection must not be used by anything else until the reader is disposed.
/// </summary>
internal sealed unsafe class ArrowQueryReader : IDisposable
{
    private IntPtr _result;

    private ArrowQueryReader(IntPtr result, Schema schema)
    {
        _result = result;
        Schema = schema;
    }

    /// <summary>The result's Arrow schema (known even when there are no rows).</summary>
    public Schema Schema { get; }

    /// <summary>Executes <paramref name="sql"/> on <paramref name="connection"/>.</summary>
    /// <exception cref="BufferException">The statement failed.</exception>
    public static ArrowQueryReader Execute(IntPtr connection, string sql)
    {
        if (connection == IntPtr.Zero)
            throw new ArgumentException("connection handle is null", nameof(connection));
        var text = DuckDbNative.Utf8Z(sql);
        IntPtr result;
        int state;
        fixed (byte* p = text)
            state = DuckDbNative.duckdb_query_arrow(connection, p, out result);
        try
        {
            if (state != DuckDbNative.Success)
            {
                var message = result != IntPtr.Zero ? Marshal.PtrToStringUTF8(DuckDbNative.duckdb_query_arrow_error(result)) : null;
                throw new BufferException("query failed: " + (message ?? "unknown error"));
            }
            var exported = CArrowSchema.Create();
            try
            {
                if (DuckDbNative.duckdb_query_arrow_schema(result, &exported) != DuckDbNative.Success)
                    throw new BufferException("DuckDB could not describe the query result as Arrow");
                var schema = CArrowSchemaImporter.ImportSchema(exported);
                var reader = new ArrowQueryReader(result, schema);
                result = IntPtr.Zero;
                return reader;
            }
            finally
            {
                CArrowSchema.Free(exported);
            }
        }
        finally
        {
            if (result != IntPtr.Zero)
                DuckDbNative.duckdb_destroy_arrow(ref result);
        }
    }

    /// <summary>The next batch, or null at the end of the result.</summary>
    public RecordBatch? ReadNext()
    {
        ObjectDisposedException.ThrowIf(_result == IntPtr.Zero, this);
        var array = CArrowArray.Create();
        try
        {
            if (DuckDbNative.duckdb_query_arrow_array(_result, &array) != DuckDbNative.Success)
                throw new BufferException("fetching the query result failed: " + (Marshal.PtrToStringUTF8(DuckDbNative.duckdb_query_arrow_error(_result)) ?? "unknown error"));
            // At the end DuckDB leaves the struct untouched (release stays null).
            if (array->length == 0 && IsReleased(array))
                return null;
            return CArrowArrayImporter.ImportRecordBatch(array, Schema);
        }
        finally
        {
            CArrowArray.Free(array);
        }
    }

    private static bool IsReleased(CArrowArray* array)
    {
        // release is the ninth pointer-sized field of struct ArrowArray (after 5 int64s and 3 pointers).
        return *(IntPtr*)((byte*)array + 8 * sizeof(long)) == IntPtr.Zero;
    }

    public void Dispose()
    {
        if (_result != IntPtr.Zero)
            DuckDbNative.duckdb_destroy_arrow(ref _result);
    }
}
