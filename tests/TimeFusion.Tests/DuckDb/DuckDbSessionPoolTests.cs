using DuckDB.NET.Data;
using TimeFusion.DuckDb;
using Xunit;

namespace TimeFusion.Tests.DuckDb;

/// <summary>The one DuckDB pool: reuse, the idle limit, unusable sessions, and a disposed pool.</summary>
public sealed class DuckDbSessionPoolTests : IDisposable
{
    private readonly DuckDBConnection _root = new("DataSource=:memory:");

    public DuckDbSessionPoolTests() => _root.Open();

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Connections_are_reused_up_to_the_idle_limit_and_closed_ones_are_dropped()
    {
        using var pool = new DuckDbConnectionPool(_root, maxIdle: 1);
        var a = pool.Rent();
        var b = pool.Rent();
        Assert.NotSame(a, b);
        pool.Return(a, reusable: true);
        pool.Return(b, reusable: true); // over the idle limit: closed
        Assert.Equal(System.Data.ConnectionState.Closed, b.State);
        Assert.Same(a, pool.Rent());
        a.Close();
        pool.Return(a, reusable: true); // closed: never pooled
        var c = pool.Rent();
        Assert.NotSame(a, c);
        pool.Return(c, reusable: false);
        Assert.Equal(System.Data.ConnectionState.Closed, c.State);
    }

    [Fact]
    public void A_session_wraps_its_connection_and_a_disposed_pool_refuses_to_rent()
    {
        var pool = new DuckDbSessionPool<DuckDbScalarStatementSession>(_root, 2, c => new DuckDbScalarStatementSession(c), s => s.Usable);
        var session = pool.Rent();
        Assert.Equal("X", session.Upper.Execute("x"));
        pool.Return(session, reusable: true);
        Assert.Same(session, pool.Rent());
        session.Usable = false;
        pool.Return(session, reusable: true);
        Assert.True(session.Disposed);
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
        Assert.Throws<ObjectDisposedException>(() => pool.OpenNew());
    }

    private sealed class DuckDbScalarStatementSession(DuckDBConnection connection) : IDisposable
    {
        public DuckDbScalarStatement Upper { get; } = new(connection, "SELECT upper(?::VARCHAR)");

        public bool Usable { get; set; } = true;

        public bool Disposed { get; private set; }

        public void Dispose()
        {
            Disposed = true;
            Upper.Dispose();
            connection.Dispose();
        }
    }
}
