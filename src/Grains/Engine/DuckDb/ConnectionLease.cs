using System.Data;
using System.Runtime.InteropServices;
using DuckDB.NET.Data;

namespace TimeFusion.DuckDb;

/// <summary>
/// The raw <c>duckdb_connection</c> of a DuckDB.NET connection, held with a reference on its SafeHandle for as long
/// as the lease lives, so that a concurrent close cannot free it under a native call. The one place the layer
/// dereferences DuckDB.NET's handle.
/// </summary>
internal sealed class ConnectionLease : IDisposable
{
    private SafeHandle? _native;

    private ConnectionLease(SafeHandle native, IntPtr handle)
    {
        _native = native;
        Handle = handle;
    }

    /// <summary>The raw connection pointer; valid until <see cref="Dispose"/>.</summary>
    public IntPtr Handle { get; }

    /// <summary>Leases <paramref name="connection"/>'s native handle.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The connection is closed or disposed.</exception>
    public static ConnectionLease Acquire(DuckDBConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        SafeHandle? native;
        try
        {
            native = connection.State == ConnectionState.Open ? connection.NativeConnection : null;
        }
        catch (ObjectDisposedException)
        {
            native = null;
        }
        if (native is null || native.IsClosed || native.IsInvalid)
            throw new ObjectDisposedException(nameof(DuckDBConnection), "the DuckDB connection is closed");
        var added = false;
        try
        {
            native.DangerousAddRef(ref added);
            var handle = native.DangerousGetHandle();
            if (handle == IntPtr.Zero)
                throw new ObjectDisposedException(nameof(DuckDBConnection), "the DuckDB connection is closed");
            return new ConnectionLease(native, handle);
        }
        catch
        {
            if (added)
                native.DangerousRelease();
            throw;
        }
    }

    /// <summary>Gives the reference back.</summary>
    public void Dispose() => Interlocked.Exchange(ref _native, null)?.DangerousRelease();
}
