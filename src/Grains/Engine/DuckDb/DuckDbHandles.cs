using System.Runtime.InteropServices;
using Apache.Arrow.C;

namespace TimeFusion.DuckDb;

// The native objects TimeFusion owns, one SafeHandle type each: the marshaller keeps a handle alive while a call
// uses it, a disposed handle is refused instead of dereferenced, and each object is destroyed exactly once.
// Public parameterless constructors are what LibraryImport needs to create them for out parameters and returns.

/// <summary>A DuckDB object we own: zero is invalid, and <see cref="Destroy"/> runs exactly once.</summary>
internal abstract class DuckDbHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The C API's destroy function for this kind of object.</summary>
    protected abstract void Destroy(ref IntPtr native);

    protected sealed override bool ReleaseHandle()
    {
        var h = handle;
        Destroy(ref h);
        return true;
    }
}

/// <summary>A <c>duckdb_prepared_statement</c>.</summary>
internal sealed class PreparedStatementHandle() : DuckDbHandle
{
    protected override void Destroy(ref IntPtr native) => DuckDbApi.duckdb_destroy_prepare(ref native);
}

/// <summary>A <c>duckdb_pending_result</c>.</summary>
internal sealed class PendingResultHandle() : DuckDbHandle
{
    protected override void Destroy(ref IntPtr native) => DuckDbApi.duckdb_destroy_pending(ref native);
}

/// <summary>A <c>duckdb_extracted_statements</c>.</summary>
internal sealed class ExtractedStatementsHandle() : DuckDbHandle
{
    protected override void Destroy(ref IntPtr native) => DuckDbApi.duckdb_destroy_extracted(ref native);
}

/// <summary>A <c>duckdb_appender</c>. Destroying it flushes what it still buffers (call clear first to drop that).</summary>
internal sealed class AppenderHandle() : DuckDbHandle
{
    // The state repeats an earlier append error, if any: nothing to do with it here.
    protected override void Destroy(ref IntPtr native) => DuckDbApi.duckdb_appender_destroy(ref native);
}

/// <summary>A <c>duckdb_data_chunk</c>.</summary>
internal sealed class DataChunkHandle() : DuckDbHandle
{
    protected override void Destroy(ref IntPtr native) => DuckDbApi.duckdb_destroy_data_chunk(ref native);
}

/// <summary>A <c>duckdb_arrow_converted_schema</c>.</summary>
internal sealed class ConvertedSchemaHandle() : DuckDbHandle
{
    protected override void Destroy(ref IntPtr native) => DuckDbApi.duckdb_destroy_arrow_converted_schema(ref native);
}

/// <summary>A <c>duckdb_arrow</c> (the result of <c>duckdb_query_arrow</c>).</summary>
internal sealed class ArrowResultHandle() : DuckDbHandle
{
    protected override void Destroy(ref IntPtr native) => DuckDbApi.duckdb_destroy_arrow(ref native);
}

/// <summary>A <c>duckdb_arrow_options</c>.</summary>
internal sealed class ArrowOptionsHandle() : DuckDbHandle
{
    protected override void Destroy(ref IntPtr native) => DuckDbApi.duckdb_destroy_arrow_options(ref native);
}

/// <summary>A <c>duckdb_logical_type</c>.</summary>
internal sealed class LogicalTypeHandle() : DuckDbHandle
{
    protected override void Destroy(ref IntPtr native) => DuckDbApi.duckdb_destroy_logical_type(ref native);
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
