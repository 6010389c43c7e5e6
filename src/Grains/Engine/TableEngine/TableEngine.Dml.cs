using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Dml;
using TimeFusion.Recovery;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Engine;

/// <summary>
/// DML (DESIGN.md §5). A DELETE or UPDATE runs under the flush lock (DML and flushes never interleave) in this order:
/// <list type="number">
/// <item>Check: the SQL is tokenized (one expression, balanced brackets), confined to the project, then bound and
/// evaluated by DuckDB on the buffered rows; the Delta files are rewritten and uploaded (not committed). Any failure
/// here refuses the statement with <see cref="DmlRejectedException"/>: nothing was logged or changed.</item>
/// <item>Log: the statement (its effective, project-confined predicate) is appended to the WAL, durably, at LSN d,
/// and waits its turn in the LSN order: every insert below d is in the buffer, none above.</item>
/// <item>Delta: one commit of the <c>remove</c>s and <c>add</c>s plus <c>txn(appId = "{table}#dml", version = d)</c>.</item>
/// <item>Buffer: a DuckDB DELETE/UPDATE of the buffered rows (exactly the rows with LSN &lt; d). The new Delta
/// version is published to readers under the buffer's lock as that commit lands: a snapshot sees the DML on both
/// sides or on neither.</item>
/// </list>
/// Exactly once across crashes: recovery replays WAL entries above the flush <c>txn</c> F. A DML entry d &gt; F
/// means no flush ran after it (a flush after the DML takes the lock after it and flushes through at least d), so
/// Delta holds the same rows it held when the DML ran, plus possibly this DML's own commit — which the
/// <c>#dml</c> txn tells: if its version is ≥ d the Delta side landed and is skipped, otherwise it is redone on the
/// same rows. DML commits are serialized, so that txn version only grows. The buffer is rebuilt from the WAL, so its
/// side is always redone, after the inserts below d and before those above. Once a later flush moves F past d (it
/// exports buffer rows that already carry the DML's effect), the entry is never replayed again.
/// </summary>
public sealed partial class TableEngine
{
    private long _dmlFilesRead;

    /// <summary>Delta files read by live UPDATE/DELETE statements since the table was opened (pruning shows as fewer).</summary>
    public long DmlFilesRead => Interlocked.Read(ref _dmlFilesRead);

    /// <summary>The Delta <c>txn</c> application id of this table's DML commits.</summary>
    public string DmlAppId => Id + "#dml";

    /// <summary>
    /// Deletes the rows of this table matching <paramref name="predicateSql"/> (a SQL boolean expression over the
    /// table's columns; null deletes every row), in the buffer and in Delta, atomically per table and exactly once.
    /// <paramref name="time"/> is the <c>timestamp</c> range the predicate can match (the planner derives it; the default
    /// is unbounded): Delta files outside it are not read. Returns the rows deleted.
    /// </summary>
    /// <exception cref="DmlRejectedException">Bad SQL or an expression that fails; nothing was logged or changed.</exception>
    /// <exception cref="TableFaultedException">Logged but could not be applied; reopening the table applies it.</exception>
    public Task<long> DeleteAsync(string? predicateSql, TimeRange time = default, CancellationToken cancellationToken = default) =>
        ExecuteDmlAsync(DmlStatement.Create(WalOperation.Delete, predicateSql, null, Schema, Id.Project), time, cancellationToken);

    /// <summary>
    /// Updates the rows matching <paramref name="predicateSql"/> (null = every row): each assignment sets a column to a
    /// SQL expression over the row's old values. <c>timestamp</c>, <c>date</c> and <c>project_id</c> cannot be
    /// assigned. Atomic per table and exactly once, like <see cref="DeleteAsync"/>; <paramref name="time"/> prunes Delta
    /// files as there. Returns the rows updated.
    /// </summary>
    /// <exception cref="DmlRejectedException">Bad SQL, an unknown or protected column, or an expression that fails; nothing changed.</exception>
    /// <exception cref="TableFaultedException">Logged but could not be applied; reopening the table applies it.</exception>
    public Task<long> UpdateAsync(string? predicateSql, IReadOnlyList<KeyValuePair<string, string>> assignments, TimeRange time = default,
        CancellationToken cancellationToken = default) =>
        ExecuteDmlAsync(DmlStatement.Create(WalOperation.Update, predicateSql, assignments, Schema, Id.Project), time, cancellationToken);

    private async Task<long> ExecuteDmlAsync(DmlStatement statement, TimeRange time, CancellationToken cancellationToken)
    {
        ThrowIfFaulted();
        await _flushLock.WaitAsync(cancellationToken);
        try
        {
            ThrowIfFaulted();
            await CheckOnBufferAsync(statement, cancellationToken);
            var current = DeltaSnapshot;
            using var rewrite = await Rewriter().PrepareAsync(current, statement, time, cancellationToken);
            Interlocked.Add(ref _dmlFilesRead, rewrite.FilesRead);
            var lsn = await _wal.AppendDmlAsync(statement.Operation, statement.ToRecord(), cancellationToken);
            // Logged and durable: from here it must apply, whatever the caller's token says.
            await _sequencer.WaitTurnAsync(lsn);
            DeltaSnapshot? committed = null;
            try
            {
                ThrowIfFaulted();
                committed = await CommitDeltaSideAsync(current, rewrite, statement, lsn);
                var buffered = await ApplyBufferSideAsync(statement, committed);
                committed = null; // published
                _logger.LogInformation("{Table}: {Operation} at LSN {Lsn} changed {Delta} rows in Delta ({Files} files rewritten) and {Buffered} buffered rows",
                    Id, statement.Operation, lsn, rewrite.MatchedRows, rewrite.Files.Count, buffered);
                return rewrite.MatchedRows + buffered;
            }
            catch (Exception e) when (e is not TableFaultedException)
            {
                // The Delta commit landed but the buffer side did not: publish it anyway so that the engine's view of
                // the log stays true; the table is faulted, and reopening replays the buffer side.
                if (committed is not null) Publish(committed);
                Fault(e, $"{statement.Operation} at LSN {lsn} is in the WAL but could not be applied");
                throw _fault!;
            }
            finally
            {
                _sequencer.Complete(lsn);
            }
        }
        finally
        {
            _flushLock.Release();
        }
    }

    /// <summary>Recovery: re-applies a logged DML entry (see the type's remarks for why this is exactly once).</summary>
    async Task WalReplayer.ITarget.ApplyDmlAsync(long lsn, WalOperation operation, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (operation == WalOperation.Transaction)
        {
            await ReplayBlockAsync(lsn, payload, cancellationToken);
            return;
        }
        var statement = DmlStatement.FromWal(operation, WalPayloads.DecodeDml(payload));
        SkipToReplayed(lsn);
        await _sequencer.WaitTurnAsync(lsn);
        try
        {
            var current = DeltaSnapshot;
            if ((current.TxnVersion(DmlAppId) ?? 0) < lsn)
            {
                // The live call may have skipped files outside its time range; they hold no matching row, so reading them all
                // here gives the same rewrite.
                using var rewrite = await Rewriter().PrepareAsync(current, statement, TimeRange.All, cancellationToken);
                var committed = await CommitDeltaSideAsync(current, rewrite, statement, lsn);
                try
                {
                    await ApplyBufferSideAsync(statement, committed);
                }
                catch when (committed is not null)
                {
                    Publish(committed);
                    throw;
                }
                return;
            }
            await ApplyBufferSideAsync(statement, null);
        }
        finally
        {
            _sequencer.Complete(lsn);
        }
    }

    private DmlDeltaRewriter Rewriter() => new(_services.Buffer, _buffer, _delta, Schema, _services.Options.Flush.StagingDirectory);

    /// <summary>
    /// Binds the statement against the schema and evaluates it on the buffered rows (the SET expressions cast to
    /// their columns' types, hashed so that none is optimized away), so that bad SQL or a failing cast is refused
    /// before it is logged. Rows inserted after this check are evaluated only when applied.
    /// </summary>
    private async Task CheckOnBufferAsync(DmlStatement statement, CancellationToken cancellationToken)
    {
        var values = statement.Assignments.Count == 0
            ? ""
            : ", max(hash(" + string.Join(", ", statement.Assignments.Select(a =>
                $"CAST(({a.Value}) AS {ColumnTypeMapping.ToDuckDb(Schema.Find(a.Key)!.Type)})")) + "))";
        var violation = statement.NotNullViolationSql(Schema);
        var nulls = violation is null ? "" : $", count(*) FILTER (WHERE {violation})";
        var flushed = FlushedThroughLsn;
        var check = Task.Run(() =>
        {
            // Opened and closed by the check itself: a cancelled statement stops waiting for it (below) before it ends.
            using var snapshot = _buffer.OpenSnapshot(flushed);
            var sql = $"SELECT count(*){values}{nulls} FROM {snapshot.Relation} WHERE {statement.MatchSql}";
            try
            {
                BufferTable.CheckSingleSelect(snapshot.Connection, sql);
                // The statement's timeout or cancel interrupts DuckDB (duckdb_interrupt; nothing is logged yet).
                var result = TimeFusion.DuckDb.DuckDbQueries.Run(snapshot.Connection, sql, cancellationToken);
                if (violation is not null && TimeFusion.DuckDb.DuckDbQueries.Int64At(result, result.Schema.FieldsList.Count - 1) > 0)
                    throw new DmlRejectedException($"{Id}: the UPDATE would set a NOT NULL column to NULL");
            }
            catch (ArgumentException e)
            {
                throw new DmlRejectedException($"{Id}: {e.Message}", e);
            }
            catch (TimeFusion.DuckDb.DuckDbSqlException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new DmlRejectedException($"{Id}: {statement.Operation.ToString().ToUpperInvariant()} refused: {e.Message}", e);
            }
            catch (DuckDBException e)
            {
                throw new DmlRejectedException($"{Id}: {statement.Operation.ToString().ToUpperInvariant()} refused: {e.Message}", e);
            }
        }, cancellationToken);
        await DmlCancellation.StopWaitingAsync(check, cancellationToken);
    }

    /// <summary>Commits the Delta side; returns the new version (not yet published), or null when no file changed.</summary>
    private async Task<DeltaSnapshot?> CommitDeltaSideAsync(DeltaSnapshot current, DmlDeltaRewrite rewrite, DmlStatement statement, long lsn, int blockStep = 0)
    {
        // No file changes: nothing to commit. A replay recomputes the same (empty) rewrite from the same files.
        if (rewrite.Actions.Count == 0)
            return null;
        var now = DateTimeOffset.UtcNow;
        var actions = new List<DeltaAction>(rewrite.Actions) { new TransactionAction(DmlAppId, lsn, now.ToUnixTimeMilliseconds()) };
        // A step of a transaction entry (TableEngine.Block) also records which step landed: they share the entry's LSN.
        if (blockStep > 0) actions.Add(new TransactionAction(DmlStepAppId, blockStep, now.ToUnixTimeMilliseconds()));
        DeltaSnapshot committed;
        try
        {
            committed = await _delta.CommitAsync(current, actions, statement.Operation == WalOperation.Delete ? "DELETE" : "UPDATE", CancellationToken.None,
                new Dictionary<string, string> { ["predicate"] = statement.Predicate });
        }
        catch (DeltaCheckpointException e)
        {
            _logger.LogWarning(e, "{Table}: checkpoint after Delta version {Version} failed", Id, e.Snapshot.Version);
            committed = e.Snapshot;
        }
        return committed;
    }

    private void Publish(DeltaSnapshot committed)
    {
        lock (_publishGate) _deltaSnapshot = committed;
    }

    /// <summary>
    /// Applies the buffer side; <paramref name="committed"/> (the Delta side's new version, if any) is published
    /// under the buffer's generation lock as the buffer commit lands, so that no snapshot sees one side without the other.
    /// </summary>
    private Task<long> ApplyBufferSideAsync(DmlStatement statement, DeltaSnapshot? committed)
    {
        Action? publish = committed is null ? null : () => Publish(committed);
        return statement.Operation == WalOperation.Delete
            ? _buffer.ApplyDeleteAsync(statement.MatchSql, CancellationToken.None, publish)
            : _buffer.ApplyUpdateAsync(statement.MatchSql, statement.Assignments, CancellationToken.None, publish);
    }
}
