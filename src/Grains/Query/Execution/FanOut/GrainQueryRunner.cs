using TimeFusion.Query.Planning;
using TimeFusion.Tables;

namespace TimeFusion.Query.Execution;

/// <summary>
/// Runs a statement on one grain's snapshot — in the cluster, a call to that TableGrain, which answers with
/// <see cref="SnapshotQueryExecutor"/>. The caller owns the returned batches.
/// </summary>
/// <param name="grain">The (project, table) that answers.</param>
/// <param name="sql">The statement, using the canonical table name.</param>
/// <param name="time">The reachable timestamp range, for pruning.</param>
/// <param name="newestFirstLimit">LIMIT + OFFSET for newest-first reads, or null.</param>
/// <param name="cancellationToken">Cancels the call.</param>
public delegate Task<QueryBatches> GrainQueryRunner(TableId grain, string sql, TimeRange time, long? newestFirstLimit, CancellationToken cancellationToken);
