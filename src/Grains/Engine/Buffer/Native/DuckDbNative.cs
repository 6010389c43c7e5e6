using System.Runtime.InteropServices;
using Apache.Arrow.C;

namespace TimeFusion.Buffer.Native;

/// <summary>
/// Raw DuckDB C API entry points (DuckDB 1.5, <c>duckdb.h</c>) used by the buffer: the Arrow-to-DataChunk
/// conversion, the appender and Arrow query results. Handles are plain pointers; every caller in this folder
/// owns the lifetime rules spelled out next to each use. Nothing outside <c>Buffer/Native</c> touches these.
/// </summary>
internal static unsafe class DuckDbNative
{
    private const string Library = "duckdb";

    /// <summary><c>duckdb_state</c>: 0 = DuckDBSuccess, 1 = DuckDBError.</summary>
    public const int Success = 0;

    // duckdb_error_data duckdb_schema_from_arrow(duckdb_connection, struct ArrowSchema*, duckdb_arrow_converted_schema*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_schema_from_arrow(IntPtr connection, CArrowSchema* schema, out IntPtr convertedSchema);

    // duckdb_error_data duckdb_data_chunk_from_arrow(duckdb_connection, struct ArrowArray*, duckdb_arrow_converted_schema, duckdb_data_chunk*)
    // Moves the array into the chunk (the struct's release is nulled; the chunk releases it when destroyed).
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_data_chunk_from_arrow(IntPtr connection, CArrowArray* array, IntPtr convertedSchema, out IntPtr chunk);

    // void duckdb_destroy_arrow_converted_schema(duckdb_arrow_converted_schema*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void duckdb_destroy_arrow_converted_schema(ref IntPtr convertedSchema);

    // duckdb_state duckdb_appender_create_ext(duckdb_connection, const char* catalog, const char* schema, const char* table, duckdb_appender*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_appender_create_ext(IntPtr connection, byte* catalog, byte* schema, byte* table, out IntPtr appender);

    // duckdb_state duckdb_append_data_chunk(duckdb_appender, duckdb_data_chunk)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_append_data_chunk(IntPtr appender, IntPtr chunk);

    // duckdb_state duckdb_appender_flush(duckdb_appender)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_appender_flush(IntPtr appender);

    // duckdb_state duckdb_appender_clear(duckdb_appender): drops buffered rows without flushing them.
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_appender_clear(IntPtr appender);

    // const char* duckdb_appender_error(duckdb_appender)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_appender_error(IntPtr appender);

    // duckdb_state duckdb_appender_destroy(duckdb_appender*): flushes what is buffered, then frees.
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_appender_destroy(ref IntPtr appender);

    // void duckdb_destroy_data_chunk(duckdb_data_chunk*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void duckdb_destroy_data_chunk(ref IntPtr chunk);

    // const char* duckdb_error_data_message(duckdb_error_data)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_error_data_message(IntPtr error);

    // bool duckdb_error_data_has_error(duckdb_error_data)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static extern bool duckdb_error_data_has_error(IntPtr error);

    // void duckdb_destroy_error_data(duckdb_error_data*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void duckdb_destroy_error_data(ref IntPtr error);

    // duckdb_state duckdb_query_arrow(duckdb_connection, const char*, duckdb_arrow*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_query_arrow(IntPtr connection, byte* query, out IntPtr result);

    // duckdb_state duckdb_query_arrow_schema(duckdb_arrow, duckdb_arrow_schema*) — out points at a caller-allocated ArrowSchema*.
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_query_arrow_schema(IntPtr result, CArrowSchema** schema);

    // duckdb_state duckdb_query_arrow_array(duckdb_arrow, duckdb_arrow_array*) — out points at a caller-allocated ArrowArray*.
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int duckdb_query_arrow_array(IntPtr result, CArrowArray** array);

    // const char* duckdb_query_arrow_error(duckdb_arrow)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr duckdb_query_arrow_error(IntPtr result);

    // void duckdb_destroy_arrow(duckdb_arrow*)
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void duckdb_destroy_arrow(ref IntPtr result);

    /// <summary>Takes the message out of a <c>duckdb_error_data</c> and destroys it; null when there was no error.</summary>
    public static string? TakeError(IntPtr error)
    {
        if (error == IntPtr.Zero)
            return null;
        try
        {
            // Some calls hand back an error object that holds no error.
            if (!duckdb_error_data_has_error(error))
                return null;
            return Marshal.PtrToStringUTF8(duckdb_error_data_message(error)) ?? "unknown DuckDB error";
        }
        finally
        {
            duckdb_destroy_error_data(ref error);
        }
    }

    /// <summary>A NUL-terminated UTF-8 copy of a string for <c>const char*</c> parameters.</summary>
    public static byte[] Utf8Z(string s)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(s) + 1];
        System.Text.Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
