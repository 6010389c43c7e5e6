using System.Runtime.InteropServices;

namespace TimeFusion.DuckDb;

/// <summary>The C API's table functions (<c>duckdb.h</c>, "Table Functions"), used by <see cref="ArrowScanFunction"/> only.</summary>
internal static unsafe partial class DuckDbApi
{
    /// <summary><c>DUCKDB_TYPE_BIGINT</c>.</summary>
    public const int TypeBigInt = 5;

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_create_logical_type(int type);

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_create_table_function();

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_table_function(ref IntPtr function);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void duckdb_table_function_set_name(IntPtr function, string name);

    [LibraryImport(Library)]
    public static partial void duckdb_table_function_add_parameter(IntPtr function, IntPtr type);

    [LibraryImport(Library)]
    public static partial void duckdb_table_function_set_bind(IntPtr function, delegate* unmanaged[Cdecl]<IntPtr, void> bind);

    [LibraryImport(Library)]
    public static partial void duckdb_table_function_set_init(IntPtr function, delegate* unmanaged[Cdecl]<IntPtr, void> init);

    [LibraryImport(Library)]
    public static partial void duckdb_table_function_set_function(IntPtr function, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> main);

    [LibraryImport(Library)]
    public static partial void duckdb_table_function_supports_projection_pushdown(IntPtr function, [MarshalAs(UnmanagedType.U1)] bool pushdown);

    [LibraryImport(Library)]
    public static partial int duckdb_register_table_function(IntPtr connection, IntPtr function);

    [LibraryImport(Library)]
    public static partial ulong duckdb_bind_get_parameter_count(IntPtr info);

    // Destroy the value with duckdb_destroy_value.
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_bind_get_parameter(IntPtr info, ulong index);

    [LibraryImport(Library)]
    public static partial long duckdb_get_int64(IntPtr value);

    [LibraryImport(Library)]
    public static partial void duckdb_destroy_value(ref IntPtr value);

    // The type is copied.
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void duckdb_bind_add_result_column(IntPtr info, string name, LogicalTypeHandle type);

    [LibraryImport(Library)]
    public static partial void duckdb_bind_set_bind_data(IntPtr info, IntPtr data, delegate* unmanaged[Cdecl]<IntPtr, void> destroy);

    [LibraryImport(Library)]
    public static partial void duckdb_bind_set_cardinality(IntPtr info, ulong cardinality, [MarshalAs(UnmanagedType.U1)] bool exact);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void duckdb_bind_set_error(IntPtr info, string error);

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_init_get_bind_data(IntPtr info);

    [LibraryImport(Library)]
    public static partial void duckdb_init_set_init_data(IntPtr info, IntPtr data, delegate* unmanaged[Cdecl]<IntPtr, void> destroy);

    [LibraryImport(Library)]
    public static partial ulong duckdb_init_get_column_count(IntPtr info);

    [LibraryImport(Library)]
    public static partial ulong duckdb_init_get_column_index(IntPtr info, ulong column);

    [LibraryImport(Library)]
    public static partial void duckdb_init_set_max_threads(IntPtr info, ulong threads);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void duckdb_init_set_error(IntPtr info, string error);

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_function_get_init_data(IntPtr info);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void duckdb_function_set_error(IntPtr info, string error);

    [LibraryImport(Library)]
    public static partial IntPtr duckdb_data_chunk_get_vector(IntPtr chunk, ulong column);

    [LibraryImport(Library)]
    public static partial void duckdb_data_chunk_set_size(IntPtr chunk, ulong size);

    // The chunk's own vector (owned by the chunk).
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_data_chunk_get_vector(DataChunkHandle chunk, ulong column);

    [LibraryImport(Library)]
    public static partial void duckdb_vector_reference_vector(IntPtr to, IntPtr from);

    [LibraryImport(Library)]
    public static partial ulong duckdb_vector_size();

    // Destroy the type with duckdb_destroy_logical_type.
    [LibraryImport(Library)]
    public static partial IntPtr duckdb_vector_get_column_type(IntPtr vector);

    [LibraryImport(Library)]
    public static partial int duckdb_get_type_id(IntPtr type);

    [LibraryImport(Library)]
    public static partial int duckdb_get_type_id(LogicalTypeHandle type);
}
