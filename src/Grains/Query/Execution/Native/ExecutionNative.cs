using System.Runtime.InteropServices;
using Apache.Arrow.C;

namespace TimeFusion.Query.Execution.Native;

/// <summary>
/// The DuckDB C API entry points (DuckDB 1.5, <c>duckdb.h</c>) the query executors use: prepared statements run
/// through a pending result (so that an interrupt can never be lost, see <see cref="DuckDbStatementRunner"/>), a
/// materialized <c>duckdb_result</c> read chunk by chunk, and the chunk-to-Arrow conversion. Nothing outside this
/// folder calls these.
/// </summary>
internal static unsafe class ExecutionNative
{
    private const string Library = "duckdb";

    /// <summary><c>duckdb_state</c>: 0 = DuckDBSuccess.</summary>
    public const int Success = 0;

    /// <summary>
    /// <c>duckdb_result</c>: six pointer-sized fields (deprecated counts, columns, error message, internal data).
    /// Passed by pointer, except to <c>duckdb_fetch_chunk</c>, which takes it by value.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct DuckDbResult
    {
        public ulong DeprecatedColumnCount;
        public ulong DeprecatedRowCount;
        public ulong DeprecatedRowsChanged;
        public IntPtr DeprecatedColumns;
        public IntPtr DeprecatedErrorMessage;
        public IntPtr InternalData;
    }

    // duckdb_state duckdb_prepare(duckdb_connection, const char*, duckdb_prepared_statement*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_prepare(IntPtr connection, byte* query, out IntPtr prepared);

    // const char* duckdb_prepare_error(duckdb_prepared_statement)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_prepare_error(IntPtr prepared);

    // void duckdb_destroy_prepare(duckdb_prepared_statement*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void duckdb_destroy_prepare(ref IntPtr prepared);

    // duckdb_state duckdb_pending_prepared(duckdb_prepared_statement, duckdb_pending_result*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_pending_prepared(IntPtr prepared, out IntPtr pending);

    // const char* duckdb_pending_error(duckdb_pending_result)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_pending_error(IntPtr pending);

    // duckdb_state duckdb_execute_pending(duckdb_pending_result, duckdb_result*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_execute_pending(IntPtr pending, DuckDbResult* result);

    // void duckdb_destroy_pending(duckdb_pending_result*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void duckdb_destroy_pending(ref IntPtr pending);

    // void duckdb_interrupt(duckdb_connection)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void duckdb_interrupt(IntPtr connection);

    // const char* duckdb_result_error(duckdb_result*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_result_error(DuckDbResult* result);

    // void duckdb_destroy_result(duckdb_result*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void duckdb_destroy_result(DuckDbResult* result);

    // idx_t duckdb_column_count(duckdb_result*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern ulong duckdb_column_count(DuckDbResult* result);

    // const char* duckdb_column_name(duckdb_result*, idx_t)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_column_name(DuckDbResult* result, ulong column);

    // duckdb_logical_type duckdb_column_logical_type(duckdb_result*, idx_t)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_column_logical_type(DuckDbResult* result, ulong column);

    // void duckdb_destroy_logical_type(duckdb_logical_type*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void duckdb_destroy_logical_type(ref IntPtr type);

    // duckdb_arrow_options duckdb_result_get_arrow_options(duckdb_result*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_result_get_arrow_options(DuckDbResult* result);

    // void duckdb_destroy_arrow_options(duckdb_arrow_options*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void duckdb_destroy_arrow_options(ref IntPtr options);

    // duckdb_error_data duckdb_to_arrow_schema(duckdb_arrow_options, duckdb_logical_type*, const char**, idx_t, struct ArrowSchema*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_to_arrow_schema(IntPtr options, IntPtr* types, IntPtr* names, ulong count, CArrowSchema* schema);

    // duckdb_data_chunk duckdb_fetch_chunk(duckdb_result) — the result struct by value; null at the end (or on error).
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_fetch_chunk(DuckDbResult result);

    // idx_t duckdb_data_chunk_get_size(duckdb_data_chunk)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern ulong duckdb_data_chunk_get_size(IntPtr chunk);

    // duckdb_error_data duckdb_data_chunk_to_arrow(duckdb_arrow_options, duckdb_data_chunk, struct ArrowArray*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_data_chunk_to_arrow(IntPtr options, IntPtr chunk, CArrowArray* array);

    // Error data, data chunks and C strings are handled by the shared TimeFusion.Buffer.Native.DuckDbNative.
}
