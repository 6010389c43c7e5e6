using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.C;
using DuckDB.NET.Data;

namespace TimeFusion.DuckDb;

/// <summary>
/// The table function <c>tf_arrow_scan(id)</c>: DuckDB reads Arrow record batches that live in managed memory — the
/// buffer's newest rows — as if they were a table, without appending them anywhere. A caller registers a fixed set
/// of batches (<see cref="Register(ArrowScanColumns, IReadOnlyList{RecordBatch}, int)"/>) and puts <see cref="ArrowScanSource.Sql"/> in a query.
/// <para>
/// Each call of the scan hands DuckDB one slice of at most a vector's rows: the projected columns only (projection
/// pushdown) are exported through the Arrow C data interface and turned into a DataChunk by
/// <c>duckdb_data_chunk_from_arrow</c>, whose vectors the output references (zero-copy for fixed-width columns and
/// long strings). Fixed-width columns point straight into the batches' buffers without DuckDB keeping them alive, so
/// the batches must live in memory that never moves (the buffer's tail copies them to the pinned object heap) and
/// stay referenced until the query ends: the bind data holds the source.
/// </para>
/// <para>
/// Why not <c>duckdb_arrow_scan</c>: measured here (docs/ENVIRONMENT.md), its stream ignores pushed-down projections
/// and filters (wrong results) and a registration is readable once.
/// </para>
/// </summary>
public sealed unsafe class ArrowScanFunction : IDisposable
{
    /// <summary>The function's name in SQL.</summary>
    public const string Name = "tf_arrow_scan";

    // Callbacks are static (function pointers), so the registry is too; ids are unique per process.
    private static readonly ConcurrentDictionary<long, ArrowScanSource> Sources = new();
    private static long _nextId;

    private readonly DuckDBConnection _connection;
    private readonly ConnectionLease _lease;
    private int _disposed;

    private ArrowScanFunction(DuckDBConnection connection)
    {
        _connection = connection;
        _lease = ConnectionLease.Acquire(connection);
    }

    /// <summary>The connection whose settings the Arrow conversion reads (used for nothing else).</summary>
    internal IntPtr ConversionConnection
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _lease.Handle;
        }
    }

    /// <summary>
    /// Registers the function on <paramref name="connection"/>'s database instance (every connection of it sees it) and
    /// keeps the connection for the conversions; it is disposed with the returned object.
    /// </summary>
    /// <exception cref="InvalidOperationException">DuckDB refused the registration.</exception>
    public static ArrowScanFunction Register(DuckDBConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var result = new ArrowScanFunction(connection);
        var function = DuckDbApi.duckdb_create_table_function();
        var bigint = DuckDbApi.duckdb_create_logical_type(DuckDbApi.TypeBigInt);
        try
        {
            DuckDbApi.duckdb_table_function_set_name(function, Name);
            DuckDbApi.duckdb_table_function_add_parameter(function, bigint);
            DuckDbApi.duckdb_table_function_set_bind(function, &Bind);
            DuckDbApi.duckdb_table_function_set_init(function, &Init);
            DuckDbApi.duckdb_table_function_set_function(function, &Scan);
            DuckDbApi.duckdb_table_function_supports_projection_pushdown(function, true);
            if (DuckDbApi.duckdb_register_table_function(result._lease.Handle, function) != DuckDbApi.Success)
                throw new InvalidOperationException($"DuckDB refused to register the table function {Name}");
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            DuckDbApi.duckdb_destroy_logical_type(ref bigint);
            DuckDbApi.duckdb_destroy_table_function(ref function);
        }
    }

    /// <summary>
    /// Makes <paramref name="batches"/> readable as <c>tf_arrow_scan(id)</c> until the returned source is disposed. The
    /// batches must not change, must have <paramref name="columns"/> in that order with Arrow types that convert to
    /// theirs exactly, and must live in memory that does not move (see the class remarks). At most
    /// <paramref name="maxThreads"/> DuckDB threads scan them at once (0 = the processor count).
    /// </summary>
    public ArrowScanSource Register(ArrowScanColumns columns, IReadOnlyList<RecordBatch> batches, int maxThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(batches);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        foreach (var batch in batches)
        {
            if (batch.ColumnCount != columns.Names.Count)
                throw new ArgumentException($"a batch has {batch.ColumnCount} columns, the scan {columns.Names.Count}", nameof(batches));
        }
        var source = new ArrowScanSource(this, Interlocked.Increment(ref _nextId), columns.Names, columns.Types, batches)
        {
            MaxThreads = maxThreads > 0 ? maxThreads : Environment.ProcessorCount,
        };
        Sources[source.Id] = source;
        return source;
    }

    internal static void Unregister(long id) => Sources.TryRemove(id, out _);

    /// <summary>Closes the conversion connection (the function stays in the catalog until the database closes).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _lease.Dispose();
        _connection.Dispose();
    }

    // ---- callbacks (DuckDB threads; nothing may throw across them) ----

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Bind(IntPtr info)
    {
        try
        {
            if (DuckDbApi.duckdb_bind_get_parameter_count(info) != 1)
            {
                DuckDbApi.duckdb_bind_set_error(info, $"{Name} takes one argument");
                return;
            }
            var value = DuckDbApi.duckdb_bind_get_parameter(info, 0);
            var id = DuckDbApi.duckdb_get_int64(value);
            DuckDbApi.duckdb_destroy_value(ref value);
            if (!Sources.TryGetValue(id, out var source))
            {
                DuckDbApi.duckdb_bind_set_error(info, $"{Name}({id}): no such set of batches (its snapshot was closed)");
                return;
            }
            for (var i = 0; i < source.Names.Count; i++)
                DuckDbApi.duckdb_bind_add_result_column(info, source.Names[i], source.Types[i]);
            DuckDbApi.duckdb_bind_set_cardinality(info, (ulong)source.Rows, true);
            // The bind data keeps the source (and so its batches) alive until DuckDB is done with the query.
            DuckDbApi.duckdb_bind_set_bind_data(info, GCHandle.ToIntPtr(GCHandle.Alloc(source)), &FreeHandle);
        }
        catch (Exception e)
        {
            DuckDbApi.duckdb_bind_set_error(info, $"{Name}: {e.Message}");
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Init(IntPtr info)
    {
        try
        {
            var source = (ArrowScanSource)GCHandle.FromIntPtr(DuckDbApi.duckdb_init_get_bind_data(info)).Target!;
            var count = (int)DuckDbApi.duckdb_init_get_column_count(info);
            var projection = new int[count];
            for (var i = 0; i < count; i++)
            {
                var index = DuckDbApi.duckdb_init_get_column_index(info, (ulong)i);
                // Anything past the columns is a virtual column (a row id): not filled.
                projection[i] = index < (ulong)source.Names.Count ? (int)index : -1;
            }
            var state = new ArrowScanState(source, projection, (int)DuckDbApi.duckdb_vector_size());
            DuckDbApi.duckdb_init_set_init_data(info, GCHandle.ToIntPtr(GCHandle.Alloc(state)), &FreeState);
            DuckDbApi.duckdb_init_set_max_threads(info, (ulong)Math.Clamp(state.SliceCount / 8, 1, source.MaxThreads));
        }
        catch (Exception e)
        {
            DuckDbApi.duckdb_init_set_error(info, $"{Name}: {e.Message}");
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Scan(IntPtr info, IntPtr output)
    {
        try
        {
            var state = (ArrowScanState)GCHandle.FromIntPtr(DuckDbApi.duckdb_function_get_init_data(info)).Target!;
            state.Fill(output);
        }
        catch (Exception e)
        {
            DuckDbApi.duckdb_function_set_error(info, $"{Name}: {e.Message}");
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void FreeHandle(IntPtr handle)
    {
        if (handle != IntPtr.Zero)
            GCHandle.FromIntPtr(handle).Free();
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void FreeState(IntPtr handle)
    {
        if (handle == IntPtr.Zero)
            return;
        var gc = GCHandle.FromIntPtr(handle);
        (gc.Target as ArrowScanState)?.Dispose();
        gc.Free();
    }
}
