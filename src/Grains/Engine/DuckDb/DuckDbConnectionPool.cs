using DuckDB.NET.Data;

namespace TimeFusion.DuckDb;

/// <summary>
/// <see cref="DuckDbSessionPool{TSession}"/> of plain connections to one DuckDB database (the silo's buffer database:
/// snapshots, exports, DML, merges and maintenance). A connection comes back without an open transaction or is
/// discarded.
/// </summary>
internal sealed class DuckDbConnectionPool(DuckDBConnection root, int maxIdle)
    : DuckDbSessionPool<DuckDBConnection>(root, maxIdle, static c => c, static c => c.State == System.Data.ConnectionState.Open);
