using System.Runtime.InteropServices;

namespace TimeFusion.Query.Planning;

/// <summary>
/// The few DuckDB C API calls (<c>duckdb.h</c>, DuckDB 1.5) that DuckDB.NET does not expose the way planning needs:
/// statement extraction (a syntax check that does not bind) and prepared-statement result names. Handles are
/// plain pointers owned by <see cref="ParserSession"/>, which frees every one it gets.
/// </summary>
internal static partial class ParserNative
{
    private const string Library = "duckdb";

    // idx_t duckdb_extract_statements(duckdb_connection, const char *query, duckdb_extracted_statements *out)
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ulong duckdb_extract_statements(IntPtr connection, string query, out IntPtr extracted);

    // const char *duckdb_extract_statements_error(duckdb_extracted_statements) — owned by the extracted statements.
    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_extract_statements_error(IntPtr extracted);

    // void duckdb_destroy_extracted(duckdb_extracted_statements *)
    [LibraryImport(Library)]
    internal static partial void duckdb_destroy_extracted(ref IntPtr extracted);

    // duckdb_state duckdb_prepare(duckdb_connection, const char *query, duckdb_prepared_statement *out)
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int duckdb_prepare(IntPtr connection, string query, out IntPtr prepared);

    // const char *duckdb_prepare_error(duckdb_prepared_statement) — owned by the statement.
    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_prepare_error(IntPtr prepared);

    // void duckdb_destroy_prepare(duckdb_prepared_statement *)
    [LibraryImport(Library)]
    internal static partial void duckdb_destroy_prepare(ref IntPtr prepared);

    // idx_t duckdb_prepared_statement_column_count(duckdb_prepared_statement)
    [LibraryImport(Library)]
    internal static partial ulong duckdb_prepared_statement_column_count(IntPtr prepared);

    // const char *duckdb_prepared_statement_column_name(duckdb_prepared_statement, idx_t) — free with duckdb_free.
    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_prepared_statement_column_name(IntPtr prepared, ulong column);

    // void duckdb_free(void *)
    [LibraryImport(Library)]
    internal static partial void duckdb_free(IntPtr pointer);

    /// <summary><c>duckdb_result</c>: six machine words, owned by DuckDB until <see cref="duckdb_destroy_result"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct DuckDbResult
    {
        public ulong DeprecatedColumnCount;
        public ulong DeprecatedRowCount;
        public ulong DeprecatedRowsChanged;
        public IntPtr DeprecatedColumns;
        public IntPtr DeprecatedErrorMessage;
        public IntPtr InternalData;
    }

    // duckdb_state duckdb_bind_varchar(duckdb_prepared_statement, idx_t param_idx, const char *val)
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int duckdb_bind_varchar(IntPtr prepared, ulong index, string value);

    // duckdb_state duckdb_execute_prepared(duckdb_prepared_statement, duckdb_result *out)
    [LibraryImport(Library)]
    internal static partial int duckdb_execute_prepared(IntPtr prepared, out DuckDbResult result);

    // idx_t duckdb_row_count(duckdb_result *)
    [LibraryImport(Library)]
    internal static partial ulong duckdb_row_count(ref DuckDbResult result);

    // bool duckdb_value_is_null(duckdb_result *, idx_t col, idx_t row)
    [LibraryImport(Library)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool duckdb_value_is_null(ref DuckDbResult result, ulong column, ulong row);

    // char *duckdb_value_varchar(duckdb_result *, idx_t col, idx_t row) — free with duckdb_free.
    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_value_varchar(ref DuckDbResult result, ulong column, ulong row);

    // const char *duckdb_result_error(duckdb_result *) — owned by the result.
    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_result_error(ref DuckDbResult result);

    // void duckdb_destroy_result(duckdb_result *)
    [LibraryImport(Library)]
    internal static partial void duckdb_destroy_result(ref DuckDbResult result);
}
