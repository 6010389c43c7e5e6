using System.Runtime.InteropServices;
using Apache.Arrow.C;

namespace TimeFusion.DuckDb;

// The native objects TimeFusion owns, one SafeHandle type each: the marshaller keeps a handle alive while a call
// uses it, a disposed handle is refused instead of dereferenced, and each object is destroyed exactly once.
// Public parameterless constructors are what LibraryImport needs to create them for out parameters and returns.

/// <summary>A <c>duckdb_prepared_statement</c>.</summary>
internal sealed class PreparedStatementHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDbApi.duckdb_destroy_prepare(ref h);
        return true;
    }
}

/// <summary>A <c>duckdb_pending_result</c>.</summary>
internal sealed class PendingResultHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDbApi.duckdb_destroy_pending(ref h);
        return true;
    }
}

/// <summary>A <c>duckdb_extracted_statements</c>.</summary>
internal sealed class ExtractedStatementsHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDbApi.duckdb_destroy_extracted(ref h);
        return true;
    }
}

/// <summary>A <c>duckdb_appender</c>. Destroying it flushes what it still buffers (call clear first to drop that).</summary>
internal sealed class AppenderHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        var h = handle;
        // The state repeats an earlier append error, if any: nothing to do with it here.
        DuckDbApi.duckdb_appender_destroy(ref h);
        return true;
    }
}

/// <summary>A <c>duckdb_data_chunk</c>.</summary>
internal sealed class DataChunkHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDbApi.duckdb_destroy_data_chunk(ref h);
        return true;
    }
}

/// <summary>A <c>duckdb_arrow_converted_schema</c>.</summary>
internal sealed class ConvertedSchemaHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDbApi.duckdb_destroy_arrow_converted_schema(ref h);
        return true;
    }
}

/// <summary>A <c>duckdb_arrow</c> (the result of <c>duckdb_query_arrow</c>).</summary>
internal sealed class ArrowResultHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDbApi.duckdb_destroy_arrow(ref h);
        return true;
    }
}

/// <summary>A <c>duckdb_arrow_options</c>.</summary>
internal sealed class ArrowOptionsHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDbApi.duckdb_destroy_arrow_options(ref h);
        return true;
    }
}

/// <summary>A <c>duckdb_logical_type</c>.</summary>
internal sealed class LogicalTypeHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        var h = handle;
        DuckDbApi.duckdb_destroy_logical_type(ref h);
        return true;
    }
}

/// <summary>
/// A <c>duckdb_result</c>: the struct lives in native memory this handle allocates (zeroed, which DuckDB accepts
/// for destruction too), so that it can be passed by pointer like every other handle.
/// </summary>
internal sealed unsafe class DuckDbResultHandle : SafeHandle
{
    /// <summary><c>duckdb_result</c>: six pointer-sized fields (deprecated counts, columns, error message, internal data).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Struct
    {
        public ulong DeprecatedColumnCount;
        public ulong DeprecatedRowCount;
        public ulong DeprecatedRowsChanged;
        public IntPtr DeprecatedColumns;
        public IntPtr DeprecatedErrorMessage;
        public IntPtr InternalData;
    }

    public DuckDbResultHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle((IntPtr)NativeMemory.AllocZeroed((nuint)sizeof(Struct)));
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>A copy of the struct, for the calls that take it by value (<c>duckdb_fetch_chunk</c>).</summary>
    public Struct Value
    {
        get
        {
            var added = false;
            DangerousAddRef(ref added);
            try
            {
                return *(Struct*)handle;
            }
            finally
            {
                DangerousRelease();
            }
        }
    }

    protected override bool ReleaseHandle()
    {
        DuckDbApi.duckdb_destroy_result(handle);
        NativeMemory.Free((void*)handle);
        return true;
    }
}

/// <summary>An Arrow C <c>struct ArrowSchema</c> we allocated; releases what it holds (if anything) and frees it.</summary>
internal sealed unsafe class OwnedArrowSchema : SafeHandle
{
    public OwnedArrowSchema() : base(IntPtr.Zero, ownsHandle: true) => SetHandle((IntPtr)CArrowSchema.Create());

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The struct; valid while this object is (callers keep it alive with <c>using</c>).</summary>
    public CArrowSchema* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (CArrowSchema*)handle;
        }
    }

    protected override bool ReleaseHandle()
    {
        CArrowSchema.Free((CArrowSchema*)handle);
        return true;
    }
}

/// <summary>An Arrow C <c>struct ArrowArray</c> we allocated; releases what it holds (if anything) and frees it.</summary>
internal sealed unsafe class OwnedArrowArray : SafeHandle
{
    public OwnedArrowArray() : base(IntPtr.Zero, ownsHandle: true) => SetHandle((IntPtr)CArrowArray.Create());

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The struct; valid while this object is (callers keep it alive with <c>using</c>).</summary>
    public CArrowArray* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (CArrowArray*)handle;
        }
    }

    /// <summary>Whether the struct holds nothing (its <c>release</c> callback is null).</summary>
    public bool IsReleased =>
        // release is the ninth pointer-sized field of struct ArrowArray (after 5 int64s and 3 pointers).
        *(IntPtr*)((byte*)Pointer + 8 * sizeof(long)) == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        CArrowArray.Free((CArrowArray*)handle);
        return true;
    }
}
