using Apache.Arrow;
using Microsoft.Extensions.Logging;
using System.Diagnostics;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Flush;
using TimeFusion.Ingest;
using TimeFusion.Maintenance;
using TimeFusion.Recovery;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Engine;

/// <summary>
/// The storage engine of one (project, table): its WAL, its buffer table, its memory reservations and its Delta
/// table. The write path runs here in order — validate (<see cref="BatchValidator"/>), reserve memory, log
/// (<see cref="WriteAheadLog"/>, durable before the ack), buffer (<see cref="BufferTable"/>, applied in LSN
/// order), persist (<see cref="Persister"/>) — and <see cref="OpenAsync"/> recovers (<see cref="WalReplayer"/>).
/// Inserts may run concurrently (they share WAL group commits); flushes are serialized.
/// A TableGrain owns exactly one engine; nothing else writes its table.
/// </summary>
public sealed partial class TableEngine : IAsyncDisposable, WalReplayer.ITarget
{
    private readonly EngineServices _services;
    private readonly ILogger _logger;
    private readonly WriteAheadLog _wal;
    private readonly BufferTable _buffer;
    private readonly DeltaTable _delta;
    private readonly Persister _persister;
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    private readonly object _publishGate = new();
    private LsnSequencer _sequencer;
    private DeltaSnapshot _deltaSnapshot;
    private long _flushedThroughLsn;
    private long _oldestUnflushedTicks; // Stopwatch ticks of the first row buffered since the last flush; 0 = none
    private Exception? _fault;

    private TableEngine(TableId id, TableSchema schema, EngineServices services, WriteAheadLog wal, BufferTable buffer,
        DeltaTable delta, DeltaSnapshot snapshot, long flushedThroughLsn, ILogger logger)
    {
        Id = id;
        Schema = schema;
        _services = services;
        _logger = logger;
        _wal = wal;
        _buffer = buffer;
        _delta = delta;
        _deltaSnapshot = snapshot;
        _flushedThroughLsn = flushedThroughLsn;
        _sequencer = new LsnSequencer(flushedThroughLsn);
        _persister = new Persister(id, schema, buffer, delta, wal, services.Options.Flush, logger);
    }

    /// <summary>The (project, table).</summary>
    public TableId Id { get; }

    /// <summary>Whether a failure (a WAL write refused, e.g. fenced by a new owner) stopped the engine: it must be reopened.</summary>
    public bool IsFaulted => Volatile.Read(ref _fault) is not null || _wal.IsFaulted || _buffer.TailFault is not null;

    /// <summary>The table schema.</summary>
    public TableSchema Schema { get; }

    /// <summary>What recovery did when the engine opened.</summary>
    public RecoveryReport Recovery { get; private set; } = null!;

    /// <summary>Every WAL entry up to this LSN is in Delta.</summary>
    public long FlushedThroughLsn
    {
        get { lock (_publishGate) return _flushedThroughLsn; }
    }

    /// <summary>Every WAL entry up to this LSN is in Delta or the buffer.</summary>
    public long AppliedThroughLsn => _sequencer.AppliedThrough;

    /// <summary>Rows in the buffer (not yet in Delta).</summary>
    public long BufferedRows => _buffer.RowCount;

    /// <summary>Bytes reserved for this table's buffered rows.</summary>
    public long BufferedBytes => _buffer.ReservedBytes;

    /// <summary>The current Delta snapshot.</summary>
    public DeltaSnapshot DeltaSnapshot
    {
        get { lock (_publishGate) return _deltaSnapshot; }
    }

    /// <summary>
    /// Opens the table: loads (or creates) its Delta table, opens its WAL, creates its buffer table, and replays the
    /// WAL entries above the Delta <c>txn</c> version — exactly once, flushing along the way if the memory budget fills.
    /// </summary>
    public static async Task<TableEngine> OpenAsync(TableId id, TableSchema schema, EngineServices services, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var logger = services.Logger;
        var delta = new DeltaTable(services.Objects, StoragePathNames.DeltaTableRoot(id), services.Options.Delta);
        // The Delta log and the WAL open side by side: on blob storage each is a chain of round trips (log listing and
        // reads, the ownership commit; WAL listing, identity, lease break and acquire, segment reads), and neither
        // needs the other. Ownership holds either way: both are fenced before anything is replayed, a previous owner's
        // flush landing before our ownership commit makes that commit (and this open) fail, and it can only have
        // truncated WAL entries at or below the LSN that flush records.
        var deltaTask = OpenDeltaAsync(id, schema, delta, services.Options.FenceOwnership, cancellationToken);
        var walTask = WriteAheadLog.OpenAsync(id, services.Wal, services.Options.Wal, cancellationToken);
        try
        {
            await Task.WhenAll(deltaTask, walTask);
        }
        catch
        {
            if (walTask.IsCompletedSuccessfully) await walTask.Result.DisposeAsync();
            throw;
        }
        var (snapshot, flushed, deltaElapsed) = deltaTask.Result;
        var wal = walTask.Result;
        var walElapsed = clock.Elapsed;
        BufferTable? buffer = null;
        try
        {
            if (wal.LastLsn < flushed)
                throw new TableRecoveryException(
                    $"{id}: the WAL ends at LSN {wal.LastLsn} but Delta already holds entries through LSN {flushed}; the WAL storage was lost or replaced");
            buffer = await BufferTable.CreateAsync(services.Buffer, id, schema, cancellationToken);
            var engine = new TableEngine(id, schema, services, wal, buffer, delta, snapshot, flushed, logger);
            (long Entries, long Rows, long Bytes, long LastLsn, long Quarantined) replayed;
            using (buffer.PauseCompression())
                replayed = await WalReplayer.ReplayAsync(id, wal, flushed, engine, logger, cancellationToken);
            var (entries, rows, bytes, last, quarantined) = replayed;
            engine._sequencer = new LsnSequencer(Math.Max(last, wal.LastLsn));
            engine.Recovery = new RecoveryReport(snapshot.Version, flushed, entries, rows, bytes, engine._flushesDuringReplay,
                wal.RecoveryStats, clock.Elapsed) { QuarantinedEntries = quarantined };
            var damage = wal.RecoveryStats.CorruptEntries;
            if (damage.Count > 0)
            {
                // Reported once per open, with where the copies are; the table serves every good entry and accepts writes.
                logger.LogWarning("{Table}: {Regions} damaged WAL region(s), {Bytes} bytes, were skipped and quarantined (first at byte {Position} of '{Segment}': {Reason}); copies: {Files}. "
                    + "The table serves its other entries; set TimeFusion:Wal:CorruptionPolicy=Strict to refuse opening instead",
                    id, damage.Count, wal.RecoveryStats.CorruptBytes, damage[0].Position, damage[0].Segment, damage[0].Reason, string.Join(", ", wal.RecoveryStats.QuarantineFiles));
            }
            if (entries > 0)
                logger.LogInformation("{Table}: recovered {Entries} WAL entries ({Rows} rows) above LSN {Flushed} in {Elapsed}",
                    id, entries, rows, flushed, clock.Elapsed);
            logger.LogDebug("{Table}: opened in {Elapsed} ms (Delta log and ownership {Delta} ms, Delta and WAL together {Both} ms)",
                id, (long)clock.Elapsed.TotalMilliseconds, (long)deltaElapsed.TotalMilliseconds, (long)walElapsed.TotalMilliseconds);
            return engine;
        }
        catch
        {
            if (buffer is not null) await buffer.DisposeAsync();
            await wal.DisposeAsync();
            throw;
        }
    }

    private int _flushesDuringReplay;

    /// <summary>Reads (or creates) the Delta table and, when fencing, commits this owner's ownership entry.</summary>
    private static async Task<(DeltaSnapshot Snapshot, long Flushed, TimeSpan Elapsed)> OpenDeltaAsync(TableId id, TableSchema schema, DeltaTable delta,
        bool fence, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var snapshot = await delta.OpenOrCreateAsync(id, schema, cancellationToken);
        var flushed = snapshot.TxnVersion(id.ToString()) ?? 0;
        if (fence) snapshot = await FenceDeltaAsync(id, delta, snapshot, flushed, cancellationToken);
        if (DeltaSchemaEvolution.Evolve(snapshot, schema) is { } metadata)
        {
            // ALTER TABLE … ADD COLUMN: the table's new schema is committed before any file holding the column is.
            try
            {
                snapshot = await delta.CommitAsync(snapshot, [metadata], "ADD COLUMNS", cancellationToken);
            }
            catch (DeltaCheckpointException e)
            {
                snapshot = e.Snapshot; // committed; only the checkpoint after it failed, and the next commit retries it
            }
        }
        return (snapshot, flushed, clock.Elapsed);
    }

    /// <summary>
    /// Commits this table's <c>txn</c> again at the version it already has: any commit a previous owner prepared on an
    /// older snapshot now conflicts on the <c>txn</c> (the Delta conflict check refuses to rebase it), so it can
    /// never land after ours. If the previous owner's flush landed first, this commit conflicts instead and the open
    /// fails (retryably); the next open reads the newer snapshot.
    /// </summary>
    private static Task<DeltaSnapshot> FenceDeltaAsync(TableId id, DeltaTable delta, DeltaSnapshot snapshot, long flushed, CancellationToken cancellationToken) =>
        delta.CommitAsync(snapshot, [new Delta.Actions.TransactionAction(id.ToString(), flushed, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())],
            "OWNERSHIP", cancellationToken);

    /// <summary>
    /// Inserts a batch: validates it against the schema (rejecting it whole on any problem), reserves its memory
    /// (waiting up to the configured time under pressure, then <see cref="MemoryPressureException"/>, retryable),
    /// logs it durably, and adds it to the buffer. Returns the batch's LSN once it is durable and visible.
    /// </summary>
    /// <exception cref="BatchRejectedException">The batch does not fit the table; nothing was written.</exception>
    /// <exception cref="MemoryPressureException">The memory budget stayed full; nothing was written.</exception>
    /// <exception cref="WalFaultedException">The WAL could not write; nothing was acknowledged.</exception>
    /// <exception cref="TableFaultedException">The table needs reopening.</exception>
    public async Task<long> InsertAsync(RecordBatch batch, CancellationToken cancellationToken = default)
    {
        ThrowIfFaulted();
        var slow = _services.Options.Ingest.SlowInsertLogThreshold;
        var trace = slow > TimeSpan.Zero ? new InsertTrace() : null;
        // Validated once here; the WAL, the buffer and DuckDB's conversion take the ValidatedBatch as it is.
        var rows = BatchValidator.Validate(batch, Schema, Id.Project, _services.Options.Ingest);
        // Received through Orleans into a pinned array of its own: the tail keeps the rows there, no copy.
        if (Wire.ReceivedBatches.TryGet(batch, out var received))
        {
            rows = rows.InBlock(received.Block);
            if (trace is not null) trace.Received = received;
        }
        if (trace is not null) trace.Validated = Stopwatch.GetTimestamp();
        var reservation = await _services.Buffer.Budget.ReserveAsync(_buffer.EstimateBytes(rows.Batch), _services.Buffer.Options.ReserveMaxWait, cancellationToken);
        if (trace is not null) trace.Reserved = Stopwatch.GetTimestamp();
        long lsn;
        try
        {
            // The copy the buffer's tail keeps is made here, by each writer side by side, rather than by the writer
            // whose turn it is to apply a coalesced group, one batch after another under the buffer's append lock.
            rows = _buffer.PrepareForTail(rows);
            if (trace is not null) trace.Pinned = Stopwatch.GetTimestamp();
            // Not back onto the caller's scheduler: a table grain's runs one turn at a time, and the apply below needs
            // nothing of it. The writers of one WAL commit then apply (and coalesce) on pool threads side by side,
            // with one hop fewer each (no return to the grain only to leave it again for the buffer append).
            lsn = await _wal.AppendInsertAsync(rows, cancellationToken, trace?.Wal).ConfigureAwait(false);
            if (trace is not null) trace.Logged = Stopwatch.GetTimestamp();
        }
        catch
        {
            reservation.Release();
            throw;
        }
        // Logged and durable: from here the rows must reach the buffer, whatever the caller's token says.
        await ApplyInOrderAsync(lsn, rows, reservation, trace);
        if (trace is not null)
        {
            trace.Applied = Stopwatch.GetTimestamp();
            if (trace.TotalMs >= slow.TotalMilliseconds)
                _logger.LogWarning("{Table}: slow insert at LSN {Lsn}: {Trace}", Id, lsn, trace.Describe(rows.Length));
        }
        return lsn;
    }

    /// <summary>
    /// The single door into the buffer for logged rows: applies LSN <paramref name="lsn"/> once every earlier LSN is
    /// applied. Writers waiting for their turn hand their batch to the writer whose turn it is, which appends them
    /// together with its own in one buffer transaction (up to <see cref="BufferOptions.MaxCoalescedRows"/> rows): one
    /// DuckDB commit for many concurrent small batches. Returns once the rows are visible; every caller's reservation
    /// is taken over by the buffer (or released on failure, which faults the table: the rows are in the WAL).
    /// </summary>
    internal async Task ApplyInOrderAsync(long lsn, ValidatedBatch rows, MemoryReservation reservation, InsertTrace? trace = null)
    {
        var pending = new PendingApply(rows, reservation);
        var turn = await _sequencer.WaitTurnAsync(lsn, pending).ConfigureAwait(false);
        if (trace is not null) trace.Turn = Stopwatch.GetTimestamp();
        if (!turn)
        {
            if (trace is not null) trace.GroupBatches = 0; // applied by an earlier writer's group
            return; // an earlier writer applied it with its own (a failure of that group faults this await)
        }
        var group = new List<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)> { (rows, lsn, reservation) };
        long groupRows = rows.Length;
        var limit = _services.Buffer.Options.MaxCoalescedRows;
        foreach (var (next, payload) in _sequencer.TakeSuccessors(lsn, p =>
                 {
                     var n = ((PendingApply)p).Rows.Length;
                     if (groupRows + n > limit) return false;
                     groupRows += n;
                     return true;
                 }))
        {
            var taken = (PendingApply)payload;
            group.Add((taken.Rows, next, taken.Reservation));
        }
        var last = group[^1].Lsn;
        if (trace is not null) trace.GroupBatches = group.Count;
        Exception? error = null;
        try
        {
            ThrowIfFaulted();
            if (BeforeBufferAppend is { } hook) await hook(lsn, last).ConfigureAwait(false);
            // Off the caller's scheduler (a table grain's, which runs one thing at a time): while DuckDB appends, the
            // writers acknowledged by the same WAL commit get to queue behind this one and go together next time.
            // Already on a pool thread (the awaits above do not return to the caller's scheduler) it runs right here:
            // a Task.Run would only add a hop.
            if (OnPoolThread)
                await AppendGroupAsync(group).ConfigureAwait(false);
            else
                await Task.Run(() => AppendGroupAsync(group)).ConfigureAwait(false);
            Interlocked.CompareExchange(ref _oldestUnflushedTicks, Stopwatch.GetTimestamp(), 0);
        }
        catch (TableFaultedException e)
        {
            foreach (var item in group) item.Reservation.Release();
            error = e;
        }
        catch (Exception e)
        {
            foreach (var item in group) item.Reservation.Release();
            Fault(e, lsn == last ? $"LSN {lsn} is in the WAL but could not be buffered" : $"LSNs {lsn}–{last} are in the WAL but could not be buffered");
            error = _fault!;
        }
        finally
        {
            _sequencer.CompleteGroup(lsn, last, error);
        }
        if (error is not null) throw error;
    }

    private sealed record PendingApply(ValidatedBatch Rows, MemoryReservation Reservation);

    private Task AppendGroupAsync(List<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)> group) => group.Count == 1
        ? _buffer.AppendAsync(group[0].Batch, group[0].Lsn, group[0].Reservation, CancellationToken.None)
        : _buffer.AppendAsync(group, CancellationToken.None);

    /// <summary>Whether this code runs on a plain thread-pool thread (not inside a grain's or any other scheduler).</summary>
    private static bool OnPoolThread =>
        Thread.CurrentThread.IsThreadPoolThread && SynchronizationContext.Current is null && TaskScheduler.Current == TaskScheduler.Default;

    /// <summary>Tests: runs before each buffer append with the group's first and last LSN (a throw fails the append).</summary>
    internal Func<long, long, Task>? BeforeBufferAppend { get; set; }

    /// <summary>The buffer table's append and checkpoint counters.</summary>
    internal BufferTableStats BufferStats => _buffer.Stats;

    /// <summary>Tests: writers logged and waiting for their turn to apply.</summary>
    internal int WaitingToApply => _sequencer.WaitingCount;

    /// <summary>Whether a flush is due: buffer too old, too many rows or bytes, or the silo's memory over its soft limit.</summary>
    public bool IsFlushDue
    {
        get
        {
            if (_buffer.RowCount == 0) return false;
            var flush = _services.Options.Flush;
            var oldest = Interlocked.Read(ref _oldestUnflushedTicks);
            return _buffer.RowCount >= flush.MaxBufferedRows
                || _buffer.ReservedBytes >= flush.MaxBufferedBytes
                || _services.Buffer.Budget.IsOverSoftLimit
                || (oldest != 0 && Stopwatch.GetElapsedTime(oldest) >= flush.MaxBufferAge);
        }
    }

    /// <summary>
    /// Persists every row applied so far to Delta (see <see cref="Persister"/>), then truncates the WAL and frees
    /// the buffer. Returns once the rows are committed. A no-op when nothing new was applied.
    /// </summary>
    public async Task<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfFaulted();
        await _flushLock.WaitAsync(cancellationToken);
        try
        {
            return await FlushLockedAsync(cancellationToken);
        }
        finally
        {
            _flushLock.Release();
        }
    }

    private async Task<FlushResult> FlushLockedAsync(CancellationToken cancellationToken)
    {
        var upTo = _sequencer.AppliedThrough;
        DeltaSnapshot current;
        long flushed;
        lock (_publishGate) (current, flushed) = (_deltaSnapshot, _flushedThroughLsn);
        if (upTo <= flushed) return new FlushResult(flushed, null, 0, 0, 0);

        var startedTicks = Stopwatch.GetTimestamp();
        try
        {
            // Rows past the table's retention are not written (they are dropped from the buffer with the rest).
            var result = await _persister.PersistAsync(current, upTo, (committed, lsn) =>
            {
                lock (_publishGate) (_deltaSnapshot, _flushedThroughLsn) = (committed, lsn);
                // Rows buffered after the export started are younger than the flush start.
                Interlocked.Exchange(ref _oldestUnflushedTicks, _sequencer.AppliedThrough > lsn ? startedTicks : 0);
            }, cancellationToken, Maintenance.Retention.KeepFilterSql(RetentionCutoffMicros));
            LastFlush = _services.Options.Maintenance.Clock.GetUtcNow();
            return result;
        }
        catch (Exception e) when (FlushedThroughLsn >= upTo)
        {
            // Committed to Delta, but truncating the WAL or deleting from the buffer failed: the buffer may now
            // disagree with the published snapshot's LSN split. Reopening rebuilds it.
            Fault(e, $"flush through LSN {upTo} committed but cleanup failed");
            throw _fault!;
        }
    }

    /// <summary>
    /// Takes a consistent snapshot (DESIGN.md §4): the current Delta version and a pinned buffer transaction over the
    /// rows above its <c>txn</c> LSN, taken together so that no flush can fall between them.
    /// </summary>
    public TableSnapshot OpenSnapshot()
    {
        ThrowIfFaulted();
        // The Delta side is chosen under the buffer's generation lock (lock order: generations, then publish gate), so
        // that a DML, which publishes its Delta version under that lock as its buffer side commits, is seen on both
        // sides or on neither.
        DeltaSnapshot delta = null!;
        IDisposable? pin = null;
        var flushed = 0L;
        BufferSnapshot buffer;
        try
        {
            buffer = _buffer.OpenSnapshotChoosing(() =>
            {
                lock (_publishGate)
                {
                    (delta, flushed) = (_deltaSnapshot, _flushedThroughLsn);
                    // Pinned as it is chosen: VACUUM reads the pins under the same gate.
                    pin = _pins.Pin(delta);
                    return flushed;
                }
            });
        }
        catch
        {
            pin?.Dispose();
            throw;
        }
        return new TableSnapshot(delta, buffer, flushed, pin, RetentionCutoffMicros);
    }

    private ValidatedBatch ValidateReplayed(long lsn, RecordBatch decoded)
    {
        try
        {
            return BatchValidator.Validate(decoded, Schema, Id.Project, _services.Options.Ingest);
        }
        catch (BatchRejectedException e)
        {
            // A logged batch fitted when it was written: one that does not now is a damaged entry.
            throw new WalFormatException($"{Id}: WAL entry {lsn} does not hold a valid batch for the table: {e.Message}", e);
        }
    }

    /// <summary>
    /// Replay only: entries the WAL's corruption policy skipped leave LSN gaps; the next replayed entry takes its
    /// turn directly (replay is sequential, nothing else applies meanwhile).
    /// </summary>
    private void SkipToReplayed(long lsn)
    {
        if (lsn != _sequencer.AppliedThrough + 1) _sequencer = new LsnSequencer(lsn - 1);
    }

    private void Fault(Exception e, string what)
    {
        var fault = new TableFaultedException($"table {Id} needs reopening: {what}: {e.Message}", e);
        Interlocked.CompareExchange(ref _fault, fault, null);
        _logger.LogError(e, "{Table}: {What}; the table refuses work until it is reopened", Id, what);
    }

    private void ThrowIfFaulted()
    {
        if (Volatile.Read(ref _fault) is { } fault) throw fault;
        if (_buffer.TailFault is { } tail)
        {
            // Logged rows could not be moved from the tail into DuckDB: like a failed append, the table needs reopening.
            Fault(tail, "logged rows could not be buffered");
            throw _fault!;
        }
    }

    /// <summary>Closes the WAL and drops the buffer table. Does not flush: call <see cref="FlushAsync"/> first to persist.</summary>
    public async ValueTask DisposeAsync()
    {
        await AbortAllTransactionsAsync(); // an open transaction dies with its table: nothing of it is ever visible
        await _buffer.DisposeAsync();
        await _wal.DisposeAsync();
        _flushLock.Dispose();
    }
}
