using DuckDB.NET.Data;
using TimeFusion.DuckDb;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>
/// A consistent, pinned view of one buffer table's rows with LSN above <see cref="AboveLsn"/>: a DuckDB
/// transaction on a connection of its own. DuckDB fixes a transaction's snapshot of a database when its first
/// statement touches that database (not at BEGIN), so <see cref="BufferTable.OpenSnapshot"/> reads every
/// generation it covers once before returning; from then on appends, deletes, DML and flushes do not change
/// what it sees (generations it reads are detached only after it is disposed). Run any SQL
/// over <see cref="Relation"/> through <see cref="QueryArrow"/> or <see cref="Connection"/>. Queries on one
/// snapshot are serialized. Dispose to end the transaction (it also keeps old row versions alive in DuckDB).
/// </summary>
public sealed class BufferSnapshot : IDisposable
{
    private readonly DuckDbConnectionPool _pool;
    private readonly Action _release;
    private readonly object _gate = new();
    private DuckDBConnection? _connection;

    internal BufferSnapshot(DuckDbConnectionPool pool, DuckDBConnection connection, IReadOnlyList<string> parts, long aboveLsn, Action release)
    {
        _pool = pool;
        _connection = connection;
        _release = release;
        Parts = parts;
        Relation = parts.Count == 1 ? parts[0] : "(" + string.Join(" UNION ALL ", parts.Select(p => p[1..^1])) + ")";
        AboveLsn = aboveLsn;
    }

    /// <summary>Rows with an LSN above this are visible (the last LSN flushed to Delta, W).</summary>
    public long AboveLsn { get; }

    /// <summary>
    /// SQL text of a parenthesized subquery over the snapshot's rows with the table's own columns: a UNION ALL over
    /// the table's generations, e.g. <c>(SELECT * EXCLUDE ("_lsn") FROM "tfbuf_…_g3".main."rows" WHERE "_lsn" > 42
    /// UNION ALL SELECT * EXCLUDE ("_lsn") FROM "tfbuf_…_g4".main."rows")</c>; use it as a FROM item or CTE body.
    /// Generations holding only rows at or below <see cref="AboveLsn"/> are left out, and the LSN filter is applied
    /// only where a generation may hold such rows, so most queries read plain tables.
    /// </summary>
    public string Relation { get; }

    /// <summary>
    /// The same rows as <see cref="Relation"/>, one parenthesized subquery per generation (their UNION ALL is
    /// <see cref="Relation"/>). DuckDB does not push <c>ORDER BY … LIMIT n</c> into the branches of a UNION ALL and
    /// so loses its top-N optimizations over several generations (measured: 14 ms against 2-3 ms per branch on
    /// 2 M rows); a planner can apply the top-N to each part and merge.
    /// </summary>
    public IReadOnlyList<string> Parts { get; }

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
            return new ArrowQueryResult(ArrowQueryReader.Execute(connection, sql));
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
        try
        {
            _pool.Return(connection, DuckDbCommands.TryRollback(connection));
        }
        finally
        {
            _release();
        }
    }
}
