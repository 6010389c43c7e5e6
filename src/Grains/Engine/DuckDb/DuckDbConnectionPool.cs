using System.Collections.Concurrent;
using DuckDB.NET.Data;

namespace TimeFusion.DuckDb;

/// <summary>
/// The pool of connections to one DuckDB database (the silo's buffer database: snapshots, exports, DML, merges and
/// maintenance). A connection is rented by one user at a time; it comes back without an open transaction or is
/// discarded. Connections are duplicates of a root connection the owner keeps open.
/// </summary>
internal sealed class DuckDbConnectionPool : IDisposable
{
    private readonly DuckDBConnection _root;
    private readonly ConcurrentBag<DuckDBConnection> _idle = new();
    private readonly int _maxIdle;
    private int _idleCount;
    private volatile bool _disposed;

    public DuckDbConnectionPool(DuckDBConnection root, int maxIdle)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentOutOfRangeException.ThrowIfNegative(maxIdle);
        _root = root;
        _maxIdle = maxIdle;
    }

    /// <summary>An open connection to the buffer database (a new one when none is idle).</summary>
    public DuckDBConnection Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_idle.TryTake(out var connection))
        {
            Interlocked.Decrement(ref _idleCount);
            return connection;
        }
        return OpenNew();
    }

    /// <summary>A new connection owned by the caller (e.g. a table's append connection).</summary>
    public DuckDBConnection OpenNew()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        DuckDBConnection connection;
        lock (_root)
            connection = _root.Duplicate();
        connection.Open();
        return connection;
    }

    /// <summary>Gives a connection back; <paramref name="reusable"/> false (or a full pool) closes it.</summary>
    public void Return(DuckDBConnection connection, bool reusable)
    {
        ArgumentNullException.ThrowIfNull(connection);
        reusable &= connection.State == System.Data.ConnectionState.Open;
        if (reusable && !_disposed && Interlocked.Increment(ref _idleCount) <= _maxIdle)
        {
            _idle.Add(connection);
            return;
        }
        if (reusable && !_disposed)
            Interlocked.Decrement(ref _idleCount);
        connection.Dispose();
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var connection))
            connection.Dispose();
    }
}
