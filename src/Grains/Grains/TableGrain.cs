using System.Runtime.CompilerServices;
using Apache.Arrow;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TimeFusion.Engine;
using TimeFusion.Hosting;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// The single writer of one (project, table) (DESIGN.md §1): a thin Orleans shell around its <see cref="TableEngine"/>.
/// Activation opens the engine, which recovers the WAL above the Delta <c>txn</c> version; a grain timer flushes
/// when a flush is due (age, rows, bytes, memory pressure); deactivation flushes and closes.
/// Inserts and queries interleave (the engine is safe for that; inserts share WAL group commits); a query takes
/// its snapshot and then runs off the grain's turn.
/// </summary>
[Orleans.Placement.RandomPlacement] // spreads tables over the cluster; Orleans' default would keep a caller's grains on its own silo
public sealed class TableGrain(
    EngineServices services,
    SnapshotQueryExecutor executor,
    IOptions<FlushTimerOptions> flushTimer,
    IOptions<TransactionTimerOptions> transactionTimer,
    IHostApplicationLifetime lifetime,
    StatementCancellations cancellations,
    LocalTableWriters localWriters,
    ILogger<TableGrain> logger) : Grain, ITableGrain
{
    private TableEngine? _engine;
    private IGrainTimer? _flushTimer;
    private IGrainTimer? _maintenanceTimer;
    private IGrainTimer? _transactionTimer;
    private bool _registered;
    private bool _reopenWithoutFlush;
    private LocalTableWriters.Writer? _localWriter;
    private bool _localWriterClosed; // this activation is dropping, reopening or deactivating: never offered again

    // A call that reaches the grain while it closes (deactivating for a hand-over, or after its activation failed):
    // ObjectDisposedException is what callers retry (40003), where an InvalidOperationException would be XX000.
    private TableEngine Engine => _engine ?? throw new ObjectDisposedException(nameof(TableGrain), "the table is closed here (moving between silos)");

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ActivateAsync();
        }
        catch (Exception e) when (TimeFusion.Hosting.ExceptionTranslationFilter.Translate(e) is { } translated)
        {
            // An activation's failure reaches the caller as Orleans' rejection, past the call filters, and only types
            // Orleans can serialize cross silos: a takeover whose ownership commit lost to the previous owner's last
            // commit (DeltaConcurrentCommitException) reached a client on another silo as a codec failure, XX000.
            // Translated here it is the retryable SQLSTATE it stands for (40001).
            logger.LogWarning(e, "Table grain {Key} could not activate on this silo", this.GetPrimaryKeyString());
            throw translated;
        }
    }

    private async Task ActivateAsync()
    {
        var (project, table) = TableGrainKey.Parse(this.GetPrimaryKeyString());
        var definition = (await GrainFactory.GetGrain<ICatalogGrain>(0).ListTablesAsync()).FirstOrDefault(t => t.Name == table)
            ?? throw new SchemaException($"table '{table}' does not exist");
        var schema = TableSchema.Create(definition.Name, definition.Columns);
        // Recovery runs to the end whatever the first caller does: Orleans cancels this token when the call that
        // activated the grain times out (30 s inside a silo), and a replay cut short would start over on every call.
        _engine = await TableEngine.OpenAsync(new TableId(project, table), schema, services, CancellationToken.None);
        logger.LogInformation("Table grain {Table} activated on this silo (recovered {Entries} WAL entries)", _engine.Id, _engine.Recovery.ReplayedEntries);
        _engine.Retention = await GrainFactory.GetGrain<ICatalogGrain>(0).RetentionOfAsync(table, project);
        var maintenance = services.Options.Maintenance;
        if (maintenance.Enabled)
        {
            // Interleaving: OPTIMIZE rewrites files for a while and must not hold up flushes, DML or queries; the
            // engine runs one maintenance task at a time and commits with optimistic concurrency.
            _maintenanceTimer = this.RegisterGrainTimer(MaintainAsync, new GrainTimerCreationOptions
            {
                DueTime = maintenance.CheckInterval,
                Period = maintenance.CheckInterval,
                Interleave = true,
                KeepAlive = false,
            });
        }
        var idle = transactionTimer.Value.TransactionIdleTimeout;
        _transactionTimer = this.RegisterGrainTimer(AbortIdleTransactionsAsync, new GrainTimerCreationOptions
        {
            DueTime = idle / 4,
            Period = idle / 4,
            Interleave = true,
            KeepAlive = false,
        });
        _flushTimer = this.RegisterGrainTimer(FlushIfDueAsync, new GrainTimerCreationOptions
        {
            DueTime = flushTimer.Value.CheckInterval,
            Period = flushTimer.Value.CheckInterval,
            Interleave = false,
            KeepAlive = false,
        });
    }

    private async Task FlushIfDueAsync(CancellationToken cancellationToken)
    {
        if (_engine is not { IsFlushDue: true } engine) return;
        try
        {
            await OffTurn(() => engine.FlushAsync(cancellationToken));
        }
        catch (Exception e) when (engine.IsFaulted || FencedWrite.Is(e))
        {
            if (FencedWrite.Is(e)) LogFenced(engine, "flush", e);
            else logger.LogWarning(e, "{Table}: flush failed and stopped the table; it reopens on the next call", engine.Id);
            if (engine.IsFaulted) DeactivateOnIdle();
        }
    }

    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        if (_engine is not { } engine) return;
        try
        {
            await OffTurn(() => engine.RunScheduledMaintenanceAsync(cancellationToken));
        }
        catch (Exception e) when (e is not TableFaultedException)
        {
            // Maintenance is retried on the next tick; a failed OPTIMIZE or VACUUM leaves the table as it was.
            logger.LogWarning(e, "{Table}: scheduled maintenance failed", engine.Id);
        }
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _flushTimer?.Dispose();
        _maintenanceTimer?.Dispose();
        _transactionTimer?.Dispose();
        await CloseLocalWriterAsync();
        if (_engine is null) return;
        // An open transaction cannot outlive the activation: it is aborted (its COPY fails retryably).
        await _engine.AbortAllTransactionsAsync();
        try
        {
            // A schema change reopens the table from its WAL instead: the buffered rows come back under the new schema.
            if (!_reopenWithoutFlush) await _engine.FlushAsync(cancellationToken);
        }
        catch (Exception e)
        {
            // Nothing is lost: the rows stay in the WAL and are replayed on the next activation.
            if (FencedWrite.Is(e)) LogFenced(_engine, "flush on deactivation", e);
            else logger.LogWarning(e, "{Table}: flush on deactivation failed; the WAL keeps the rows", _engine.Id);
        }
        await _engine.DisposeAsync();
        _engine = null;
    }

    /// <summary>
    /// Runs engine work on the thread pool, off the activation's turn. The engine's steps can hold a thread for tens of
    /// milliseconds (validating a batch, a Delta commit, deleting WAL segments, a DuckDB statement); run on the turn,
    /// every call of the table waited behind them — inserts and their acknowledgements included, even though they
    /// interleave (docs/BENCHMARKS.md, session 17: a flush's last steps delayed acks by 40–100 ms). The grain still
    /// awaits the work, so a call that does not interleave keeps the activation to itself until it ends.
    /// </summary>
    private static Task OffTurn(Func<Task> work) => Task.Run(work);

    /// <inheritdoc cref="OffTurn(Func{Task})"/>
    private static Task<T> OffTurn<T>(Func<Task<T>> work) => Task.Run(work);

    /// <summary>A write (<see cref="WriteAsync{T}"/>) whose engine work runs off the activation's turn (<see cref="OffTurn{T}"/>).</summary>
    private Task<T> WriteOffTurnAsync<T>(Func<TableEngine, Task<T>> write) => WriteAsync(e => OffTurn(() => write(e)));

    /// <summary>
    /// Runs a write; when it leaves the engine faulted (a WAL write failed, or a new owner fenced this one) the grain
    /// deactivates, so the next call reopens the table from storage instead of failing forever.
    /// </summary>
    private async Task<T> WriteAsync<T>(Func<TableEngine, Task<T>> write)
    {
        var engine = Engine;
        try
        {
            return await write(engine);
        }
        catch (Exception e) when (engine.IsFaulted || FencedWrite.Is(e))
        {
            if (FencedWrite.Is(e)) LogFenced(engine, "write", e);
            if (engine.IsFaulted) DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>
    /// One line per write refused because another silo owns the table now (a silo paused past being declared dead
    /// comes back to find its WAL lease broken and its Delta commit beaten): nothing of the write was committed.
    /// </summary>
    private void LogFenced(TableEngine engine, string operation, Exception e) =>
        logger.LogWarning("{Table}: {Operation} " + FencedWrite.LogMarker + ": another silo took this table over; nothing of it was committed ({Reason})",
            engine.Id, operation, e.GetBaseException().Message);

    /// <inheritdoc />
    public async Task<long> InsertAsync(RecordBatch batch)
    {
        if (Wire.ReceivedBatches.TryGet(batch, out var received)) received.GrainEntered = System.Diagnostics.Stopwatch.GetTimestamp();
        // Registered before the first row is acknowledged: a statement naming no project finds every project
        // with rows through the catalog, so an acknowledged row must never belong to an unregistered project.
        await RegisterAsync();
        // Off the grain's turn from the start: validating and encoding a batch for the WAL are CPU work that needs
        // nothing of the grain, and on its turn the concurrent writers of one table took them one at a time (one core)
        // while the other core idled. The WAL and the LSN sequencer order what happens after (InsertAsync interleaves).
        var lsn = await WriteOffTurnAsync(e => e.InsertAsync(batch));
        // Registered and writing: this silo's sessions may insert straight into the engine from now on.
        _localWriter?.GrainCalled();
        if (_localWriter is null && !_localWriterClosed && _engine is { IsFaulted: false } engine)
        {
            _localWriter = localWriters.Open(this.GetPrimaryKeyString(), engine, logger);
            logger.LogInformation("Table grain {Table} takes inserts directly from this silo's sessions", engine.Id);
        }
        return lsn;
    }

    /// <summary>Withdraws the engine from direct inserts and waits for those in flight (before it closes or changes).</summary>
    private async Task CloseLocalWriterAsync()
    {
        _localWriterClosed = true;
        if (_localWriter is not { } writer) return;
        _localWriter = null;
        await writer.CloseAsync();
    }

    private async Task RegisterAsync()
    {
        if (_registered) return;
        await GrainFactory.GetGrain<ICatalogGrain>(0).RegisterProjectAsync(Engine.Id.Table, Engine.Id.Project);
        _registered = true;
    }

    private async Task AbortIdleTransactionsAsync(CancellationToken cancellationToken)
    {
        if (_engine is not { OpenTransactions: > 0 } engine) return;
        var aborted = await engine.AbortIdleTransactionsAsync(transactionTimer.Value.TransactionIdleTimeout);
        if (aborted > 0) logger.LogWarning("{Table}: aborted {Count} transaction(s) idle for {Idle}", engine.Id, aborted, transactionTimer.Value.TransactionIdleTimeout);
    }

    /// <inheritdoc />
    public async Task BeginTransactionAsync(Guid transaction)
    {
        // Registered before anything can be committed (as for inserts): a statement naming no project finds the project.
        await RegisterAsync();
        await WriteAsync(async e =>
        {
            await e.BeginTransactionAsync(transaction);
            return 0;
        });
    }

    /// <inheritdoc />
    public Task<long> StageAsync(Guid transaction, RecordBatch batch) => WriteOffTurnAsync(e => e.StageAsync(transaction, batch));

    /// <inheritdoc />
    public Task PrepareTransactionAsync(Guid transaction) => WriteOffTurnAsync(async e =>
    {
        await e.PrepareTransactionAsync(transaction);
        return 0L;
    });

    /// <inheritdoc />
    public Task<long> CommitTransactionAsync(Guid transaction) => WriteOffTurnAsync(e => e.CommitTransactionAsync(transaction));

    /// <inheritdoc />
    public Task AbortTransactionAsync(Guid transaction) => _engine is { } engine ? engine.AbortTransactionAsync(transaction) : Task.CompletedTask;

    /// <inheritdoc />
    public async Task<long> ExecuteDmlAsync(DmlRequest request, CancellationToken cancellationToken = default)
    {
        var time = new TimeRange(request.MinTimestampMicros, request.MaxTimestampMicros);
        // As for queries: the caller's token, the statement's registry entry (a stateless gateway's cancel may not reach
        // this grain) and the server stopping all interrupt the statement (before it is logged; see TableEngine.Dml).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancellations.TokenOf(), lifetime.ApplicationStopping);
        return await WriteOffTurnAsync(e => request.IsUpdate
            ? e.UpdateAsync(request.Predicate, request.Assignments, time, stop.Token)
            : e.DeleteAsync(request.Predicate, time, stop.Token));
    }

    /// <inheritdoc />
    public async Task<long> CommitBlockAsync(IReadOnlyList<BlockWrite> writes, CancellationToken cancellationToken = default)
    {
        // Registered before anything can be committed, as for inserts.
        if (writes.Any(w => w.Rows is not null)) await RegisterAsync();
        var steps = writes.Select(w => w.Rows is { } rows
            ? (BlockStep)new BlockInsert(rows)
            : new BlockDml(w.Dml!.IsUpdate, w.Dml.Predicate, w.Dml.Assignments, new TimeRange(w.Dml.MinTimestampMicros, w.Dml.MaxTimestampMicros))).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancellations.TokenOf(), lifetime.ApplicationStopping);
        return await WriteOffTurnAsync(e => e.CommitBlockAsync(steps, stop.Token));
    }

    /// <inheritdoc />
    public async Task<FlushReply> FlushAsync()
    {
        var result = await WriteOffTurnAsync(e => e.FlushAsync());
        return new FlushReply(result.FlushedThroughLsn, result.DeltaVersion, result.Rows);
    }

    /// <inheritdoc />
    public async Task<ArrowBatches> QueryAsync(GrainQuery query, CancellationToken cancellationToken = default)
    {
        var engine = Engine;
        var snapshot = await engine.OpenSnapshotAsync(cancellationToken); // all of a block being applied or none of it
        // The caller's cancellation (timeout, cancel request, lost client) or the server stopping interrupts DuckDB.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancellations.TokenOf(), lifetime.ApplicationStopping);
        try
        {
            // The query itself runs on the thread pool: ingest keeps flowing while it runs.
            var (batches, _) = await Task.Run(() => executor.ExecuteDetailedAsync(snapshot, engine.Schema, services.Objects, engine.Schema.Name,
                query.Sql, new TimeRange(query.MinTimestampMicros, query.MaxTimestampMicros), query.NewestFirstLimit, stop.Token, query.TimeZone), stop.Token);
            using (batches)
                return ArrowBatches.FromIpc(ArrowIpc.Write(batches.Schema, batches.Batches)); // owned bytes: the native result is freed here
        }
        finally
        {
            snapshot.Dispose();
        }
    }

    /// <inheritdoc />
    public async Task<GrainQueryAnswer> QueryPartAsync(GrainQuery query, CancellationToken cancellationToken = default) =>
        new(await QueryAsync(query, cancellationToken), RuntimeIdentity);

    /// <inheritdoc />
    public async IAsyncEnumerable<ArrowBatches> QueryStreamAsync(GrainQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (query.NewestFirstLimit is not null)
            throw new ArgumentException("a newest-first read is not streamed: use QueryAsync", nameof(query));
        var engine = Engine;
        var snapshot = await engine.OpenSnapshotAsync(cancellationToken); // all of a block being applied or none of it
        // Abandoning the enumeration cancels cancellationToken (Orleans disposes the enumerator): DuckDB is interrupted
        // and the result and the snapshot are freed below, as for a timeout, a cancel request or the server stopping.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancellations.TokenOf(), lifetime.ApplicationStopping);
        QueryStream? stream = null;
        try
        {
            stream = await Task.Run(() => executor.OpenStreamAsync(snapshot, engine.Schema, services.Objects, engine.Schema.Name, query.Sql,
                new TimeRange(query.MinTimestampMicros, query.MaxTimestampMicros), stop.Token, query.TimeZone, query.StreamBatchBytes), stop.Token);
            // JSON columns marked as the plan typed them (DuckDB exports JSON as plain utf8), on every message.
            var schema = ArrowJsonFields.Mark(stream.Schema, query.JsonColumns);
            yield return ArrowBatches.FromIpc(ArrowIpc.Write(schema, []));
            while (true)
            {
                // The next batch is computed only now that the caller asked for it; owned bytes, the native batch is freed.
                var current = stream;
                var next = await Task.Run(async () =>
                {
                    using var batch = await current.NextAsync();
                    return batch is null ? null : ArrowBatches.FromIpc(ArrowIpc.Write(ReferenceEquals(schema, current.Schema) ? batch.Schema : schema, [batch]));
                }, stop.Token);
                if (next is null) yield break;
                yield return next;
            }
        }
        finally
        {
            if (stream is not null) await stream.DisposeAsync();
            snapshot.Dispose();
        }
    }

    /// <inheritdoc />
    public Task<TableGrainStatus> GetStatusAsync()
    {
        var e = Engine;
        var delta = e.DeltaSnapshot;
        var small = services.Options.Maintenance.SmallFileBytes;
        return Task.FromResult(new TableGrainStatus(e.AppliedThroughLsn, e.FlushedThroughLsn, e.BufferedRows, e.BufferedBytes,
            delta.Version, e.Recovery.ReplayedEntries, e.DmlFilesRead)
        {
            Project = e.Id.Project,
            Table = e.Id.Table,
            Files = delta.Files.Count,
            Bytes = delta.Files.Sum(f => f.Size),
            Rows = delta.TryCountRecords(),
            SmallFiles = delta.Files.Count(f => f.Size < small),
            WalBytes = e.WalBytes,
            LastFlush = Latest(TxnTime(delta, e.Id.ToString()), e.LastFlush),
            LastOptimize = Latest(TxnTime(delta, e.Id + "#optimize"), e.LastOptimize),
            LastVacuum = e.LastVacuum,
            Retention = e.Retention,
            Silo = RuntimeIdentity,
            QuarantinedWalRegions = e.Recovery.QuarantinedRegions,
            QuarantinedWalBytes = e.Recovery.Wal.CorruptBytes,
            OpenTransactions = e.OpenTransactions,
            StagedBytes = e.StagedBytes,
        });
    }

    private static DateTimeOffset? TxnTime(Delta.DeltaSnapshot delta, string appId) =>
        delta.Transactions.TryGetValue(appId, out var t) && t.LastUpdated is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    /// <inheritdoc />
    public async Task<OptimizeReply> OptimizeAsync(OptimizeRequest request)
    {
        var engine = Engine;
        var r = await OffTurn(() => engine.OptimizeAsync(request.FromDate, request.ToDate));
        return new OptimizeReply(r.FilesRemoved, r.FilesAdded, r.Rows, r.DeltaVersion);
    }

    /// <inheritdoc />
    public async Task<VacuumReply> VacuumAsync(VacuumRequest request)
    {
        var engine = Engine;
        var r = await OffTurn(() => engine.VacuumAsync(request.Retain));
        return new VacuumReply(r.FilesDeleted, r.BytesDeleted, r.LogFilesDeleted);
    }

    /// <inheritdoc />
    public async Task<int> DropAsync()
    {
        _flushTimer?.Dispose();
        _maintenanceTimer?.Dispose();
        await CloseLocalWriterAsync();
        var id = Engine.Id;
        // Closed without a flush: the rows are being dropped, writing them to Delta first would only be undone.
        await Engine.DisposeAsync();
        _engine = null;
        var deleted = await TableEngine.DeleteStorageAsync(id, services);
        logger.LogInformation("Table grain {Table} dropped ({Objects} objects deleted)", id, deleted);
        DeactivateOnIdle();
        return deleted;
    }

    /// <inheritdoc />
    public async Task TakeSchemaAsync()
    {
        var table = Engine.Id.Table;
        var definition = (await GrainFactory.GetGrain<ICatalogGrain>(0).ListTablesAsync()).FirstOrDefault(t => t.Name == table);
        if (definition is null || TableSchema.Create(definition.Name, definition.Columns).Columns.SequenceEqual(Engine.Schema.Columns)) return;
        logger.LogInformation("{Table}: the table's columns changed; reopening with the new schema", Engine.Id);
        _reopenWithoutFlush = true;
        // No direct insert may land under the old columns once the new schema is acknowledged.
        await CloseLocalWriterAsync();
        DeactivateOnIdle();
    }

    /// <inheritdoc />
    public async Task<GrainExplain> ExplainAsync(GrainQuery query, bool analyze, CancellationToken cancellationToken = default)
    {
        var engine = Engine;
        var buffered = engine.BufferedRows;
        var time = new TimeRange(query.MinTimestampMicros, query.MaxTimestampMicros);
        var snapshot = await engine.OpenSnapshotAsync(cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancellations.TokenOf(), lifetime.ApplicationStopping);
        try
        {
            var (plan, files, kept) = await Task.Run(() => executor.ExplainAsync(snapshot, engine.Schema, services.Objects, engine.Schema.Name,
                query.Sql, time, stop.Token, query.TimeZone), stop.Token);
            if (!analyze) return new GrainExplain(files, kept, buffered, plan, null, null);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (batches, _) = await Task.Run(() => executor.ExecuteDetailedAsync(snapshot, engine.Schema, services.Objects, engine.Schema.Name,
                query.Sql, time, query.NewestFirstLimit, stop.Token, query.TimeZone), stop.Token);
            using (batches)
                return new GrainExplain(files, kept, buffered, plan, batches.RowCount, clock.Elapsed.TotalMilliseconds);
        }
        finally
        {
            snapshot.Dispose();
        }
    }

    /// <inheritdoc />
    public Task SetRetentionAsync(TimeSpan? retention)
    {
        Engine.Retention = retention;
        return Task.CompletedTask;
    }
}
