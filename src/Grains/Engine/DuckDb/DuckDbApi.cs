using System.Runtime.InteropServices;
using Apache.Arrow.C;

namespace TimeFusion.DuckDb;

/// <summary>
/// Every DuckDB C API entry point (DuckDB 1.5, <c>duckdb.h</c>) TimeFusion calls, and the only declaration of them.
/// Objects we own are <see cref="SafeHandle"/>s (see <c>DuckDbHandles.cs</c>), so that the marshaller keeps them alive
/// for the duration of a call and frees each exactly once; the connection is a raw pointer taken from DuckDB.NET's
/// handle inside a <see cref="ConnectionLease"/>. Nothing outside <c>Engine/DuckDb</c> calls these: the public
/// types of this folder check their inputs first, because DuckDB trusts every pointer and length it is given.
/// </summary>
internal static unsafe partial class DuckDbApi
{
    private const string Library = "duckdb";

    /// <summary><c>duckdb_state</c>: 0 = DuckDBSuccess, 1 = DuckDBError.</summary>
    public const int Success = 0;

    // ---- error data ----

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_error_data_message(IntPtr error);

    [LibraryImport(Library)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool duckdb_error_data_has_error(IntPtr error);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_error_data(ref IntPtr error);

    [LibraryImport(Library)]
    public static partial void duckdb_free(IntPtr pointer);

    [LibraryImport(Library)]
    public static partial void duckdb_interrupt(IntPtr connection);

    // ---- Arrow → DataChunk → appender ----

    // duckdb_error_data duckdb_schema_from_arrow(duckdb_connection, struct ArrowSchema*, duckdb_arrow_converted_schema*)
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_schema_from_arrow(IntPtr connection, CArrowSchema* schema, out ConvertedSchemaHandle convertedSchema);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_arrow_converted_schema(ref IntPtr convertedSchema);

    // Moves the array into the chunk (the struct's release is nulled; the chunk releases it when destroyed).
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_data_chunk_from_arrow(IntPtr connection, CArrowArray* array, ConvertedSchemaHandle convertedSchema, out DataChunkHandle chunk);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int duckdb_appender_create_ext(IntPtr connection, string? catalog, string? schema, string table, out AppenderHandle appender);

    [LibraryImport(Library)]
    public static partial ulong duckdb_appender_column_count(AppenderHandle appender);

    [LibraryImport(Library)]
    public static partial int duckdb_append_data_chunk(AppenderHandle appender, DataChunkHandle chunk);

    [LibraryImport(Library)]
    public static partial int duckdb_appender_flush(AppenderHandle appender);

    // Drops buffered rows without flushing them.
    [LibraryImport(Library)]
    public static partial int duckdb_appender_clear(AppenderHandle appender);

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_appender_error(AppenderHandle appender);

    // Flushes what is buffered, then frees.
    [LibraryImport(Library)]
    public static partial int duckdb_appender_destroy(ref IntPtr appender);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_data_chunk(ref IntPtr chunk);

    [LibraryImport(Library)]
    public static partial ulong duckdb_data_chunk_get_size(DataChunkHandle chunk);

    // ---- duckdb_query_arrow results ----

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int duckdb_query_arrow(IntPtr connection, string query, out ArrowResultHandle result);

    // out points at a caller-allocated ArrowSchema*.
    [LibraryImport(Library)]
    public static partial int duckdb_query_arrow_schema(ArrowResultHandle result, CArrowSchema** schema);

    // out points at a caller-allocated ArrowArray*.
    [LibraryImport(Library)]
    public static partial int duckdb_query_arrow_array(ArrowResultHandle result, CArrowArray** array);

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_query_arrow_error(ArrowResultHandle result);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_arrow(ref IntPtr result);

    // ---- prepared statements, pending results, materialized results ----

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int duckdb_prepare(IntPtr connection, string query, out PreparedStatementHandle prepared);

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_prepare_error(PreparedStatementHandle prepared);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_prepare(ref IntPtr prepared);

    /// <summary><c>duckdb_statement_type</c> of a prepared statement: <see cref="StatementTypeSelect"/> for a query.</summary>
    [LibraryImport(Library)]
    public static partial int duckdb_prepared_statement_type(PreparedStatementHandle prepared);

    /// <summary><c>DUCKDB_STATEMENT_TYPE_SELECT</c>.</summary>
    public const int StatementTypeSelect = 1;

    [LibraryImport(Library)]
    public static partial ulong duckdb_prepared_statement_column_count(PreparedStatementHandle prepared);

    // Free the name with duckdb_free.
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_prepared_statement_column_name(PreparedStatementHandle prepared, ulong column);

    [LibraryImport(Library)]
    public static partial LogicalTypeHandle duckdb_prepared_statement_column_logical_type(PreparedStatementHandle prepared, ulong column);

    // The alias (e.g. "JSON") of a logical type, or NULL; free it with duckdb_free.
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_logical_type_get_alias(LogicalTypeHandle type);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int duckdb_bind_varchar(PreparedStatementHandle prepared, ulong index, string value);

    [LibraryImport(Library)]
    public static partial int duckdb_execute_prepared(PreparedStatementHandle prepared, DuckDbResultHandle result);

    [LibraryImport(Library)]
    public static partial int duckdb_pending_prepared(PreparedStatementHandle prepared, out PendingResultHandle pending);

    [LibraryImport(Library)]
    public static partial int duckdb_pending_prepared_streaming(PreparedStatementHandle prepared, out PendingResultHandle pending);

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_pending_error(PendingResultHandle pending);

    [LibraryImport(Library)]
    public static partial int duckdb_execute_pending(PendingResultHandle pending, DuckDbResultHandle result);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_pending(ref IntPtr pending);

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_result_error(DuckDbResultHandle result);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_result(IntPtr result);

    [LibraryImport(Library)]
    public static partial ulong duckdb_column_count(DuckDbResultHandle result);

    // Owned by the result.
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_column_name(DuckDbResultHandle result, ulong column);

    [LibraryImport(Library)]
    public static partial LogicalTypeHandle duckdb_column_logical_type(DuckDbResultHandle result, ulong column);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_logical_type(ref IntPtr type);

    [LibraryImport(Library)]
    public static partial ulong duckdb_row_count(DuckDbResultHandle result);

    [LibraryImport(Library)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool duckdb_value_is_null(DuckDbResultHandle result, ulong column, ulong row);

    // Free with duckdb_free.
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_value_varchar(DuckDbResultHandle result, ulong column, ulong row);

    // The result struct by value; null at the end (or on error).
    [LibraryImport(Library)]
    public static partial DataChunkHandle duckdb_fetch_chunk(DuckDbResultHandle.Struct result);

    [LibraryImport(Library)]
    public static partial ArrowOptionsHandle duckdb_result_get_arrow_options(DuckDbResultHandle result);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_arrow_options(ref IntPtr options);

    // duckdb_error_data duckdb_to_arrow_schema(duckdb_arrow_options, duckdb_logical_type*, const char**, idx_t, struct ArrowSchema*)
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_to_arrow_schema(ArrowOptionsHandle options, IntPtr* types, IntPtr* names, ulong count, CArrowSchema* schema);

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_data_chunk_to_arrow(ArrowOptionsHandle options, DataChunkHandle chunk, CArrowArray* array);

    // ---- statement extraction (a syntax check that does not bind) ----

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial ulong duckdb_extract_statements(IntPtr connection, string query, out ExtractedStatementsHandle extracted);

    // Owned by the extracted statements.
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_extract_statements_error(ExtractedStatementsHandle extracted);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_extracted(ref IntPtr extracted);

    // ---- helpers ----

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

    /// <summary>A C string owned by DuckDB (not freed here), or <paramref name="fallback"/> when null.</summary>
    public static string Text(IntPtr text, string fallback) =>
        text == IntPtr.Zero ? fallback : Marshal.PtrToStringUTF8(text) ?? fallback;

    /// <summary>A C string DuckDB allocated for us: copied, then freed with <c>duckdb_free</c>.</summary>
    public static string? TakeText(IntPtr text)
    {
        if (text == IntPtr.Zero)
            return null;
        try
        {
            return Marshal.PtrToStringUTF8(text);
        }
        finally
        {
            duckdb_free(text);
        }
    }
}
