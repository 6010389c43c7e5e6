using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Dml;
using TimeFusion.Ingest;
using TimeFusion.Recovery;
using TimeFusion.Tables;
using TimeFusion.Wal;
using TimeFusion.Wire;

namespace TimeFusion.Engine;

/// <summary>One write of a transaction block to a table: an insert or a delete/update, applied in block order.</summary>
public abstract record BlockStep;

/// <summary>Rows a transaction block inserts.</summary>
/// <param name="Rows">The rows (validated when the block commits).</param>
public sealed record BlockInsert(RecordBatch Rows) : BlockStep;

/// <summary>A DELETE or UPDATE of a transaction block, as <see cref="TableEngine.DeleteAsync"/>/<see cref="TableEngine.UpdateAsync"/> take it.</summary>
/// <param name="IsUpdate">UPDATE when true.</param>
/// <param name="Predicate">The WHERE predicate (null: every row of the project).</param>
/// <param name="Assignments">UPDATE's SET list.</param>
/// <param name="Time">The <c>timestamp</c> range the predicate can match (Delta files outside it are not read).</param>
public sealed record BlockDml(bool IsUpdate, string? Predicate, IReadOnlyList<KeyValuePair<string, string>> Assignments, TimeRange Time = default) : BlockStep;

/// <summary>
/// A transaction block's writes to this table committed as ONE WAL entry (<see cref="WalOperation.Transaction"/>), so
/// that a crash at any moment leaves all of them or none after recovery:
/// <list type="number">
/// <item>Check, before anything is logged: every insert validated and its memory reserved, every DELETE/UPDATE built,
/// checked on the buffer and its Delta rewrite prepared (uploaded, not committed) — a bad step refuses the block whole.</item>
/// <item>Log: the steps, in block order, as one entry at LSN d (one frame, one CRC: its own commit record).</item>
/// <item>Apply, under the flush lock and in LSN turn (nothing interleaves): each insert appended to the buffer at LSN d,
/// each DML's Delta side committed with <c>txn(appId "{table}#dml", d)</c> and <c>txn("{table}#dml-step", k)</c> (k = its
/// 1-based DML step), then its buffer side.</item>
/// </list>
/// Recovery replays the entry like a DML entry: the buffer side of every step is redone (the buffer is rebuilt from the
/// WAL); the Delta side of DML step k is skipped when the <c>#dml</c> txn is above d, or equal to d with the
/// <c>#dml-step</c> txn ≥ k (it landed before the crash), and redone otherwise (on the same files: no flush ran after d).
/// Readers of the table may see a COMMIT part-way while it applies (the steps land one after another); once COMMIT
/// returns, and after any crash, they see all of it or nothing of it.
/// </summary>
public sealed partial class TableEngine
{
    /// <summary>The Delta <c>txn</c> application id recording which DML step of a transaction entry committed last.</summary>
    public string DmlStepAppId => Id + "#dml-step";

    private sealed record PreparedStep(ValidatedBatch? Rows, MemoryReservation? Reservation, DmlStatement? Dml, TimeRange Time)
    {
        public DmlDeltaRewrite? Rewrite { get; set; }
        public long? RewriteVersion { get; set; }
    }

    private readonly object _blockGate = new();
    private TaskCompletionSource? _blockApplying; // set while a block's steps are applied live

    /// <summary>
    /// Commits a transaction block's writes to this table atomically: inserts and deletes/updates in order, as one WAL
    /// entry. Returns the rows inserted, deleted and updated. Refused whole (nothing logged) when a row does not fit, a
    /// DML statement is bad, or the steps do not fit one WAL entry.
    /// </summary>
    /// <exception cref="BatchRejectedException">A row does not fit the table, or the block is too large for one entry (54000).</exception>
    /// <exception cref="DmlRejectedException">A DELETE or UPDATE is refused; nothing was logged.</exception>
    /// <exception cref="TableFaultedException">Logged but could not be applied; reopening the table applies it.</exception>
    public async Task<long> CommitBlockAsync(IReadOnlyList<BlockStep> steps, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0) return 0;
        ThrowIfFaulted();
        var prepared = new List<PreparedStep>(steps.Count);
        var walSteps = new List<WalTransactionStep>(steps.Count);
        try
        {
            foreach (var step in steps)
            {
                switch (step)
                {
                    case BlockInsert insert:
                    {
                        var rows = BatchValidator.Validate(insert.Rows, Schema, Id.Project, _services.Options.Ingest);
                        walSteps.Add(new WalTransactionStep(WalOperation.Insert, WalPayloads.EncodeInsert(rows.Batch)));
                        prepared.Add(new PreparedStep(rows, null, null, default));
                        break;
                    }
                    case BlockDml dml:
                    {
                        var statement = DmlStatement.Create(dml.IsUpdate ? WalOperation.Update : WalOperation.Delete, dml.Predicate,
                            dml.IsUpdate ? dml.Assignments : null, Schema, Id.Project);
                        walSteps.Add(new WalTransactionStep(statement.Operation, WalPayloads.EncodeDml(statement.ToRecord())));
                        prepared.Add(new PreparedStep(null, null, statement, dml.Time));
                        break;
                    }
                    default:
                        throw new ArgumentException($"unknown block step {step.GetType().Name}", nameof(steps));
                }
            }
            var payloadBytes = walSteps.Sum(s => s.Payload.Length + 16L);
            if (payloadBytes > _wal.MaxPayloadBytes)
                throw new BatchRejectedException($"the transaction block's writes to {Id} take {payloadBytes} bytes, more than one WAL entry holds ({_wal.MaxPayloadBytes}); commit in smaller blocks",
                    SqlState.ProgramLimitExceeded);
            for (var i = 0; i < prepared.Count; i++)
            {
                if (prepared[i].Rows is { } rows)
                    prepared[i] = prepared[i] with { Reservation = await _services.Buffer.Budget.ReserveAsync(_buffer.EstimateBytes(rows.Batch), _services.Buffer.Options.ReserveMaxWait, cancellationToken) };
            }

            await _flushLock.WaitAsync(cancellationToken);
            try
            {
                ThrowIfFaulted();
                // Every DML is checked and its Delta rewrite prepared against the table as it stands, so a bad one (or an
                // expression failing on a stored row) refuses the block before it is logged.
                var current = DeltaSnapshot;
                foreach (var step in prepared.Where(p => p.Dml is not null))
                {
                    await CheckOnBufferAsync(step.Dml!, cancellationToken);
                    step.Rewrite = await Rewriter().PrepareAsync(current, step.Dml!, step.Time, cancellationToken);
                    step.RewriteVersion = current.Version;
                    Interlocked.Add(ref _dmlFilesRead, step.Rewrite.FilesRead);
                }
                var lsn = await _wal.AppendTransactionAsync(walSteps, cancellationToken);
                // Logged and durable: from here it must apply, whatever the caller's token says.
                await _sequencer.WaitTurnAsync(lsn);
                var applying = BeginBlockApply();
                try
                {
                    ThrowIfFaulted();
                    return await ApplyBlockAsync(lsn, prepared, dmlStepsDone: 0);
                }
                catch (Exception e) when (e is not TableFaultedException)
                {
                    Fault(e, $"transaction at LSN {lsn} is in the WAL but could not be applied");
                    throw _fault!;
                }
                finally
                {
                    EndBlockApply(applying);
                    _sequencer.Complete(lsn);
                }
            }
            finally
            {
                _flushLock.Release();
            }
        }
        finally
        {
            foreach (var step in prepared)
            {
                step.Rewrite?.Dispose();
                // The buffer took over the reservations of applied inserts (set to null then); the rest go back to the budget.
                step.Reservation?.Release();
            }
        }
    }

    /// <summary>
    /// Readers wait while a block's steps are applied (<see cref="OpenSnapshotAsync"/>): its inserts and DML land in several
    /// steps (buffer appends, Delta commits), and a snapshot taken between two would show part of the block.
    /// </summary>
    private TaskCompletionSource BeginBlockApply()
    {
        var applying = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_blockGate)
            _blockApplying = applying;
        return applying;
    }

    private void EndBlockApply(TaskCompletionSource applying)
    {
        lock (_blockGate)
            _blockApplying = null;
        applying.TrySetResult();
    }

    /// <summary>
    /// A query's snapshot: as <see cref="OpenSnapshot"/>, but never while a transaction block is being applied — it waits
    /// for the block to be applied whole, so a reader sees all of a block's writes to this table or none.
    /// </summary>
    public async ValueTask<TableSnapshot> OpenSnapshotAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task applying;
            lock (_blockGate)
            {
                if (_blockApplying is null)
                    return OpenSnapshot(); // under the gate: no block can start applying while it is chosen
                applying = _blockApplying.Task;
            }
            await applying.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Applies a logged transaction's steps in order at LSN <paramref name="lsn"/> (the caller holds its turn and, live, the
    /// flush lock); the Delta side of the first <paramref name="dmlStepsDone"/> DML steps is known to be committed already.
    /// </summary>
    private async Task<long> ApplyBlockAsync(long lsn, List<PreparedStep> steps, int dmlStepsDone)
    {
        long affected = 0;
        var dmlStep = 0;
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (step.Rows is { } rows)
            {
                if (BeforeBufferAppend is { } hook) await hook(lsn, lsn);
                var reservation = step.Reservation!;
                steps[i] = step with { Reservation = null }; // the buffer owns it now, even if the append fails
                await Task.Run(() => _buffer.AppendAsync(rows, lsn, reservation, CancellationToken.None));
                // Readers and flushes take the buffer's DuckDB rows below the tail's lowest LSN only: once a DML step moved
                // rows of this LSN into DuckDB, rows of the same LSN must not stay in the tail, or they would hide those.
                if (dmlStep > 0) await _buffer.DrainTailAsync();
                Interlocked.CompareExchange(ref _oldestUnflushedTicks, Stopwatch.GetTimestamp(), 0);
                affected += rows.Length;
                continue;
            }
            var statement = step.Dml!;
            dmlStep++;
            if (dmlStep <= dmlStepsDone)
            {
                affected += await ApplyBufferSideAsync(statement, null);
                continue;
            }
            var current = DeltaSnapshot;
            var rewrite = step.Rewrite;
            if (rewrite is null || step.RewriteVersion != current.Version)
            {
                // An earlier step of the block changed the Delta files (or this is a replay): rewrite what is there now. The
                // files of a rewrite prepared earlier are referenced by no version; VACUUM removes them.
                rewrite?.Dispose();
                step.Rewrite = rewrite = await Rewriter().PrepareAsync(current, statement, step.Time, CancellationToken.None);
                step.RewriteVersion = current.Version;
            }
            var committed = await CommitDeltaSideAsync(current, rewrite, statement, lsn, dmlStep);
            try
            {
                affected += rewrite.MatchedRows + await ApplyBufferSideAsync(statement, committed);
            }
            catch when (committed is not null)
            {
                // The Delta side landed: the engine's view must show it (the table faults; reopening redoes the buffer side).
                Publish(committed);
                throw;
            }
        }
        return affected;
    }

    /// <summary>Recovery: re-applies a logged transaction entry (see the type's remarks for why this is all-or-nothing and exactly once).</summary>
    private async Task ReplayBlockAsync(long lsn, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        // Everything decoded and validated before anything is applied: a damaged step quarantines the whole entry.
        var steps = new List<PreparedStep>();
        foreach (var step in WalTransaction.Decode(payload))
        {
            steps.Add(step.Operation == WalOperation.Insert
                ? new PreparedStep(ValidateReplayed(lsn, WalPayloads.ReadInsert(step.Payload)), null, null, TimeRange.All)
                : new PreparedStep(null, null, DmlStatement.FromWal(step.Operation, WalPayloads.DecodeDml(step.Payload)), TimeRange.All));
        }
        SkipToReplayed(lsn);
        await _sequencer.WaitTurnAsync(lsn);
        try
        {
            for (var i = 0; i < steps.Count; i++)
            {
                if (steps[i].Rows is not { } rows) continue;
                var bytes = _buffer.EstimateBytes(rows.Batch);
                if (!_services.Buffer.Budget.TryReserve(bytes, out var reservation))
                {
                    // As the replayer does for plain inserts: the WAL holds more than memory allows, persist what was
                    // replayed so far (everything below this entry), then go on.
                    await FlushLockedAsync(cancellationToken);
                    _flushesDuringReplay++;
                    reservation = await _services.Buffer.Budget.ReserveAsync(bytes, _services.Buffer.Options.ReserveMaxWait, cancellationToken);
                }
                steps[i] = steps[i] with { Reservation = reservation };
            }
            var current = DeltaSnapshot;
            var dml = current.TxnVersion(DmlAppId) ?? 0;
            var done = dml < lsn ? 0 : dml > lsn ? int.MaxValue : (int)Math.Min(int.MaxValue, current.TxnVersion(DmlStepAppId) ?? 0);
            await ApplyBlockAsync(lsn, steps, done);
        }
        finally
        {
            foreach (var step in steps)
            {
                step.Rewrite?.Dispose();
                step.Reservation?.Release();
            }
            _sequencer.Complete(lsn);
        }
    }
}
