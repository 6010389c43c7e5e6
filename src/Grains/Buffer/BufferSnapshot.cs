using DuckDB.NET.Data;
using TimeFusion.Buffer.Native;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>
/// A consistent, pinned view of one buffer table's rows with LSN above <see cref="AboveLsn"/>: a DuckDB
/// transaction on a connection of its own. DuckDB fixes a transaction's snapshot when its first statement
/// touches the database (not at BEGIN), so <see cref="BufferTable.OpenSnapshot"/> reads the table once
/// before returning; from then on appends, deletes, DML and flushes do not change what it sees. Run any SQL
/// over <see cref="Relation"/> through <see cref="QueryArrow"/> or <see cref="Connection"/>. Queries on one
/// snapshot are serialized. Dispose to end the transaction (it also keeps old row versions alive in DuckDB).
/// </summary>
public sealed class BufferSnapshot : IDisposable
{
    private readonly ConnectionPool _pool;
    private readonly object _gate = new();
    private DuckDBConnection? _connection;

    internal BufferSnapshot(ConnectionPool pool, DuckDBConnection connection, string quotedTable, long aboveLsn)
    {
        _pool = pool;
        _connection = connection;
        QuotedTableName = quotedTable;
        AboveLsn = aboveLsn;
        Relation = $"(SELECT * EXCLUDE ({SqlNames.Quote(BufferTable.LsnColumn)}) FROM {quotedTable} WHERE {SqlNames.Quote(BufferTable.LsnColumn)} > {aboveLsn})";
    }

    /// <summary>Rows with an LSN above this are visible (the last LSN flushed to Delta, W).</summary>
    public long AboveLsn { get; }

    /// <summary>The quoted name of the buffer table in DuckDB (rows of every LSN, plus the <c>_lsn</c> column).</summary>
    public string QuotedTableName { get; }

    /// <summary>
    /// SQL text of a parenthesized subquery over the snapshot's rows with the table's own columns, e.g.
    /// <c>(SELECT * EXCLUDE ("_lsn") FROM "buf_…" WHERE "_lsn" > 42)</c>; use it as a FROM item or CTE body.
    /// </summary>
    public string Relation { get; }

    /// <summary>
    /// The connection holding the snapshot's transaction, for callers that run SQL through DuckDB.NET.
    /// Do not COMMIT, ROLLBACK or close it, and do not use it concurrently with <see cref="QueryArrow"/>.
    /// </summary>
    public DuckDBConnection Connection => _connection ?? throw new ObjectDisposedException(nameof(BufferSnapshot));

    /// <summary>Runs <paramref name="sql"/> inside the snapshot and returns the result as Arrow.</summary>
    /// <exception cref="BufferException">The statement failed.</exception>
    public ArrowQueryResult QueryArrow(string sql)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        lock (_gate)
        {
            var connection = Connection;
            return new ArrowQueryResult(ArrowQueryReader.Execute(connection.NativeConnection.DangerousGetHandle(), sql));
        }
    }

    /// <summary>Runs <paramref name="sql"/> inside the snapshot and returns the first value of the first row.</summary>
    public object? QueryScalar(string sql)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        lock (_gate)
            return DuckDbCommands.Scalar(Connection, sql);
    }

    /// <summary>Rows in the snapshot.</summary>
    public long CountRows() => Convert.ToInt64(QueryScalar($"SELECT count(*) FROM {Relation}"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Ends the snapshot's transaction and returns its connection.</summary>
    public void Dispose()
    {
        DuckDBConnection? connection;
        lock (_gate)
        {
            connection = _connection;
            _connection = null;
        }
        if (connection is null)
            return;
        _pool.Return(connection, DuckDbCommands.TryRollback(connection));
    }
}
