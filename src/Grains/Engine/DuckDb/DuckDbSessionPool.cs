using System.Collections.Concurrent;
using DuckDB.NET.Data;

namespace TimeFusion.DuckDb;

/// <summary>
/// The one pool of DuckDB connections: each is a duplicate of a root connection the owner keeps open, wrapped in a
/// session (<typeparamref name="TSession"/>: the connection itself for the buffer database, a parser session with
/// its prepared statements for the planner). A session is rented by one user at a time; it comes back reusable
/// (no open transaction, connection open) or is disposed, and at most a fixed number wait idle.
/// </summary>
internal class DuckDbSessionPool<TSession> : IDisposable where TSession : class, IDisposable
{
    private readonly DuckDBConnection _root;
    private readonly Func<DuckDBConnection, TSession> _open;
    private readonly Func<TSession, bool> _isReusable;
    private readonly ConcurrentBag<TSession> _idle = new();
    private readonly int _maxIdle;
    private int _idleCount;
    private volatile bool _disposed;

    /// <param name="root">The open connection new ones are duplicated from; the owner keeps and disposes it.</param>
    /// <param name="maxIdle">The most sessions kept idle.</param>
    /// <param name="open">Wraps a new open connection in a session (the connection is disposed if this throws).</param>
    /// <param name="isReusable">Whether a returned session may be pooled again.</param>
    public DuckDbSessionPool(DuckDBConnection root, int maxIdle, Func<DuckDBConnection, TSession> open, Func<TSession, bool> isReusable)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentOutOfRangeException.ThrowIfNegative(maxIdle);
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(isReusable);
        _root = root;
        _maxIdle = maxIdle;
        _open = open;
        _isReusable = isReusable;
    }

    /// <summary>An idle session, or a new one when none is idle.</summary>
    public TSession Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_idle.TryTake(out var session))
        {
            Interlocked.Decrement(ref _idleCount);
            return session;
        }
        return OpenNew();
    }

    /// <summary>A new session owned by the caller (e.g. a table's append connection).</summary>
    public TSession OpenNew()
    {
        DuckDBConnection connection;
        // Duplicate is not thread-safe on one root; the lock also orders it against Dispose.
        lock (_root)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            connection = _root.Duplicate();
        }
        try
        {
            connection.Open();
            return _open(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Gives a session back; <paramref name="reusable"/> false (or an unusable session, or a full pool) disposes it.</summary>
    public void Return(TSession session, bool reusable)
    {
        ArgumentNullException.ThrowIfNull(session);
        reusable = reusable && _isReusable(session);
        if (reusable && !_disposed && Interlocked.Increment(ref _idleCount) <= _maxIdle)
        {
            _idle.Add(session);
            return;
        }
        if (reusable && !_disposed)
            Interlocked.Decrement(ref _idleCount);
        session.Dispose();
    }

    /// <summary>Disposes the idle sessions; rented ones are disposed when they come back.</summary>
    public void Dispose()
    {
        lock (_root)
            _disposed = true;
        while (_idle.TryTake(out var session))
            session.Dispose();
    }
}
