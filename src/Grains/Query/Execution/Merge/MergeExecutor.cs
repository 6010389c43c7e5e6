using DuckDB.NET.Data;
using TimeFusion.Arrow;
using TimeFusion.Buffer;
using TimeFusion.DuckDb;
using TimeFusion.Ingest;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Execution;

/// <summary>
/// Runs the gateway's part of a plan (<see cref="QueryPlan.MergeSql"/>) over the relations the grains returned: each
/// relation becomes a temporary table named after it (<c>__partials</c>, <c>__scan_0</c>, …) with its Arrow schema
/// (also when it has no rows), filled through the Arrow appender (DuckDB's Arrow-to-DataChunk conversion, never row
/// by row). Every merge has a connection of its own from the database's pool and runs inside a transaction that is
/// rolled back at the end: temporary tables are per connection and vanish with the rollback, so concurrent merges
/// never see each other's tables and nothing is left on a pooled connection. Timestamps are rendered in UTC.
/// </summary>
public sealed class MergeExecutor
{
    private readonly BufferDatabase _database;
    private readonly ExecutionOptions _options;

    /// <summary>
    /// Creates an executor over <paramref name="database"/>: the silo-wide buffer database, or a dedicated one opened
    /// for merges (its memory limit then bounds merges alone).
    /// </summary>
    public MergeExecutor(BufferDatabase database, ExecutionOptions? options = null)
    {
        _database = database ?? throw new ArgumentNullException(nameof(database));
        _options = options ?? new ExecutionOptions();
        _options.Validate();
    }

    /// <summary>Runs <paramref name="mergeSql"/> over <paramref name="relations"/> (not disposed here) and returns its result.</summary>
    /// <exception cref="QueryExecutionException">DuckDB refused or aborted a step.</exception>
    /// <param name="mergeSql">The statement.</param>
    /// <param name="relations">The relations it reads, by name.</param>
    /// <param name="cancellationToken">Interrupts DuckDB.</param>
    /// <param name="timeZone">The session time zone it runs in (<see cref="Planning.QueryPlan.TimeZone"/>); null: UTC.</param>
    /// <param name="memory">The statement's budget: the merge's result may hold what is left of it (and at most MaxResultBytes).</param>
    public Task<QueryBatches> ExecuteAsync(string mergeSql, IReadOnlyDictionary<string, QueryBatches> relations, CancellationToken cancellationToken,
        string? timeZone = null, StatementMemory? memory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(mergeSql);
        ArgumentNullException.ThrowIfNull(relations);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.Factory.StartNew(() => Execute(mergeSql, relations, timeZone, memory, cancellationToken), cancellationToken,
            TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
    }

    private QueryBatches Execute(string mergeSql, IReadOnlyDictionary<string, QueryBatches> relations, string? timeZone, StatementMemory? memory,
        CancellationToken cancellationToken)
    {
        var pool = _database.Connections;
        var connection = pool.Rent();
        var reusable = false;
        try
        {
            try
            {
                SessionTimeZone.Set(connection, timeZone);
            }
            catch (DuckDBException e)
            {
                throw ExecutionErrors.FromDuckDb(e.Message, "setting the session time zone");
            }
            Run(connection, "BEGIN TRANSACTION", "starting the merge transaction");
            try
            {
                foreach (var (name, batches) in relations)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Load(connection, name, batches, cancellationToken);
                }
                var (cap, setting) = (memory ?? new StatementMemory(_options.StatementMemoryBytes)).ResultCap(_options.MaxResultBytes);
                return ExecutionErrors.Run(connection, mergeSql, _options.TargetBatchRows, cancellationToken, cap, setting);
            }
            finally
            {
                // Drops the temporary tables with everything else the merge did.
                reusable = DuckDbCommands.TryRollback(connection);
            }
        }
        finally
        {
            pool.Return(connection, reusable);
        }
    }

    private void Load(DuckDBConnection connection, string name, QueryBatches relation, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Run(connection, $"CREATE TEMP TABLE {SqlNames.Quote(name)} ({ArrowDuckDbTypes.ColumnList(relation.Schema)})", $"creating the relation \"{name}\"");
        if (relation.RowCount == 0)
            return;
        using var appender = new ArrowChunkAppender(connection, name, lsnColumn: null,
            _database.Options.RowsPerChunk, catalog: "temp");
        foreach (var batch in relation.Batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ValidatedBatch validated;
            try
            {
                // Partial results crossed the network (Arrow IPC from another silo): DuckDB's conversion trusts every
                // buffer, so each batch is checked against its schema first.
                validated = BatchValidator.ValidateRelation(batch);
            }
            catch (ArrowValidationException e)
            {
                throw new QueryExecutionException(SqlState.InternalError, $"the relation \"{name}\" holds a malformed Arrow batch: {e.Message}", e);
            }
            try
            {
                appender.Append(validated, 0);
            }
            catch (BufferException e)
            {
                appender.Abandon();
                throw new QueryExecutionException(SqlState.InternalError, $"loading the relation \"{name}\" failed: {e.Message}", e);
            }
        }
    }

    private static void Run(DuckDBConnection connection, string sql, string what)
    {
        try
        {
            DuckDbCommands.Execute(connection, sql);
        }
        catch (DuckDBException e)
        {
            throw ExecutionErrors.FromDuckDb(e.Message, what);
        }
    }
}
