using Microsoft.Extensions.Logging;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Maintenance;

namespace TimeFusion.Engine;

/// <summary>What an OPTIMIZE did.</summary>
/// <param name="FilesRemoved">Small files merged away (<c>remove</c>, <c>dataChange: false</c>).</param>
/// <param name="FilesAdded">Merged files written.</param>
/// <param name="Rows">Rows rewritten.</param>
/// <param name="DeltaVersion">The last version committed, or null when nothing was committed.</param>
/// <param name="SkippedBins">Bins dropped because a concurrent commit removed one of their inputs (re-planned up to the attempt limit).</param>
public sealed record OptimizeResult(int FilesRemoved, int FilesAdded, long Rows, long? DeltaVersion, int SkippedBins);

/// <summary>
/// Table maintenance (DESIGN.md §3): OPTIMIZE, retention, VACUUM and log cleanup (the work itself is in
/// <c>Engine/Maintenance</c>). One maintenance task runs at a time per table. None of them holds up ingest: inserts
/// never take the flush lock, and OPTIMIZE reads and writes its files outside it, taking it only to check its inputs
/// and commit (optimistic concurrency against flushes, DML and retention, which commit under the same lock: a bin
/// whose input a DML removed meanwhile is dropped and re-planned, so deleted rows never come back).
/// </summary>
public sealed partial class TableEngine
{
    private readonly SnapshotPins _pins = new();
    private readonly SemaphoreSlim _maintenanceLock = new(1, 1);
    private TimeSpan? _retention;

    /// <summary>Tests only: runs after OPTIMIZE wrote its files and before it commits (to race a DML against it).</summary>
    internal Func<Task>? BeforeOptimizeCommit { get; set; }

    /// <summary>Snapshots pinned by running readers, and files being written (VACUUM keeps them all).</summary>
    public SnapshotPins Pins => _pins;

    /// <summary>The table's retention (TTL) for this project: rows older than now minus this are dropped. Null keeps everything.</summary>
    public TimeSpan? Retention
    {
        get => _retention;
        set => _retention = value is { } r && r <= TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(value), "retention must be positive") : value;
    }

    /// <summary>The retention cut-off now (µs since the epoch), or null.</summary>
    public long? RetentionCutoffMicros => Maintenance.Retention.CutoffMicros(_retention, _services.Options.Maintenance.Clock.GetUtcNow());

    /// <summary>When this engine last flushed, last optimized, last vacuumed (since it was opened; null = not yet).</summary>
    public DateTimeOffset? LastFlush { get; private set; }

    /// <inheritdoc cref="LastFlush"/>
    public DateTimeOffset? LastOptimize { get; private set; }

    /// <summary>
    /// When this table was last vacuumed: recorded in the Delta log (the VACUUM's <c>txn</c> of app id
    /// <c>&lt;table&gt;#vacuum</c>), so it survives a restart.
    /// </summary>
    public DateTimeOffset? LastVacuum =>
        _lastVacuum ?? (DeltaSnapshot.Transactions.TryGetValue(VacuumAppId, out var t) && t.LastUpdated is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null);

    private DateTimeOffset? _lastVacuum;

    private string VacuumAppId => Id + "#vacuum";

    /// <summary>Bytes of this table's WAL written since it was opened (what a crash would replay is at most this).</summary>
    public long WalBytes => _wal.Statistics.BytesWritten;

    /// <summary>
    /// OPTIMIZE: merges the small files of each date partition in [<paramref name="from"/>, <paramref name="to"/>] into
    /// files of the target size, committed as one Delta version of <c>remove</c> + <c>add</c> (<c>dataChange: false</c>)
    /// per attempt. <paramref name="minSmallFiles"/> is how many small files a partition needs (2 on demand; the
    /// configured threshold + 1 when automatic).
    /// </summary>
    public async Task<OptimizeResult> OptimizeAsync(DateOnly? from = null, DateOnly? to = null, int minSmallFiles = 2, CancellationToken cancellationToken = default)
    {
        ThrowIfFaulted();
        await _maintenanceLock.WaitAsync(cancellationToken);
        try
        {
            return await OptimizeLockedAsync(from, to, minSmallFiles, cancellationToken);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    private async Task<OptimizeResult> OptimizeLockedAsync(DateOnly? from, DateOnly? to, int minSmallFiles, CancellationToken cancellationToken)
    {
        var options = _services.Options.Maintenance;
        var optimizer = new DeltaOptimizer(options, _buffer, _delta, _services.Options.Flush.StagingDirectory, _pins);
        int removed = 0, added = 0, skipped = 0;
        long rows = 0;
        long? version = null;
        for (var attempt = 1; attempt <= options.MaxOptimizeAttempts; attempt++)
        {
            var snapshot = DeltaSnapshot;
            using var pin = _pins.Pin(snapshot); // its files are read outside any lock: VACUUM must keep them
            var bins = DeltaOptimizer.Plan(snapshot, options, from, to, minSmallFiles);
            if (bins.Count == 0) break;
            var outputs = await optimizer.RewriteAsync(snapshot, bins, cancellationToken);
            if (BeforeOptimizeCommit is { } hook) await hook();
            List<OptimizeOutput> stale;
            await _flushLock.WaitAsync(CancellationToken.None);
            try
            {
                ThrowIfFaulted();
                var current = DeltaSnapshot;
                // Optimistic concurrency: every input must still be active (a DML or retention may have removed one).
                var valid = outputs.Where(o => o.Bin.Inputs.All(f => current.FilesByKey.ContainsKey(f.Key))).ToList();
                stale = outputs.Except(valid).ToList();
                if (valid.Count > 0)
                {
                    var now = options.Clock.GetUtcNow();
                    var actions = DeltaOptimizer.Actions(valid, Schema, now);
                    actions.Add(new TransactionAction(Id + "#optimize", current.Version + 1, now.ToUnixTimeMilliseconds()));
                    DeltaSnapshot committed;
                    try
                    {
                        committed = await _delta.CommitAsync(current, actions, "OPTIMIZE", CancellationToken.None,
                            new Dictionary<string, string> { ["predicate"] = "[]", ["targetSize"] = options.TargetFileBytes.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                    }
                    catch (DeltaCheckpointException e)
                    {
                        _logger.LogWarning(e, "{Table}: checkpoint after Delta version {Version} failed", Id, e.Snapshot.Version);
                        committed = e.Snapshot;
                    }
                    catch
                    {
                        // The outcome may be unknown: the outputs are left for VACUUM (as a failed flush leaves its files).
                        foreach (var o in outputs) o.Writing.Dispose();
                        throw;
                    }
                    Publish(committed);
                    version = committed.Version;
                    LastOptimize = now;
                    foreach (var o in valid)
                    {
                        removed += o.Bin.Inputs.Count;
                        added++;
                        rows += o.File.Rows;
                        o.Writing.Dispose();
                    }
                }
            }
            finally
            {
                _flushLock.Release();
            }
            if (stale.Count == 0) break;
            skipped += stale.Count;
            await optimizer.DiscardAsync(stale); // never committed: safe to delete now
        }
        if (added > 0)
            _logger.LogInformation("{Table}: OPTIMIZE merged {Removed} files into {Added} ({Rows} rows) as Delta version {Version}", Id, removed, added, rows, version);
        return new OptimizeResult(removed, added, rows, version, skipped);
    }

    /// <summary>Whether some date partition has more small files than <see cref="MaintenanceOptions.MaxSmallFilesPerPartition"/>.</summary>
    public bool IsOptimizeDue => DeltaOptimizer.Plan(DeltaSnapshot, _services.Options.Maintenance, null, null,
        _services.Options.Maintenance.MaxSmallFilesPerPartition + 1).Count > 0;

    /// <summary>
    /// Applies the retention: removes from Delta every date partition wholly before the cut-off (one commit of
    /// <c>remove</c> actions, <c>dataChange: true</c>). Returns the files removed (0 without a retention).
    /// </summary>
    public async Task<int> ApplyRetentionAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfFaulted();
        if (RetentionCutoffMicros is not { } cutoff) return 0;
        await _flushLock.WaitAsync(cancellationToken);
        try
        {
            ThrowIfFaulted();
            var current = DeltaSnapshot;
            var expired = Maintenance.Retention.ExpiredFiles(current, cutoff);
            if (expired.Count == 0) return 0;
            var now = _services.Options.Maintenance.Clock.GetUtcNow().ToUnixTimeMilliseconds();
            var actions = expired.Select(f => (DeltaAction)RemoveFile.For(f, now)).ToList();
            DeltaSnapshot committed;
            try
            {
                committed = await _delta.CommitAsync(current, actions, "DELETE", CancellationToken.None,
                    new Dictionary<string, string> { ["predicate"] = $"retention {_retention}" });
            }
            catch (DeltaCheckpointException e)
            {
                committed = e.Snapshot;
            }
            Publish(committed);
            _logger.LogInformation("{Table}: retention {Retention} removed {Files} files as Delta version {Version}", Id, _retention, expired.Count, committed.Version);
            return expired.Count;
        }
        finally
        {
            _flushLock.Release();
        }
    }

    /// <summary>
    /// VACUUM: applies the retention, then deletes the data files no version within <paramref name="retain"/> (default
    /// <see cref="MaintenanceOptions.VacuumRetention"/>) references, orphans older than that, and never a file of the
    /// current snapshot or of a snapshot a running reader holds; then cleans the log (<see cref="MaintenanceOptions.LogRetention"/>).
    /// </summary>
    public async Task<VacuumResult> VacuumAsync(TimeSpan? retain = null, CancellationToken cancellationToken = default)
    {
        ThrowIfFaulted();
        if (retain is { } r && r < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(retain), "the retention window must not be negative");
        await _maintenanceLock.WaitAsync(cancellationToken);
        try
        {
            await ApplyRetentionAsync(cancellationToken);
            var options = _services.Options.Maintenance;
            var now = options.Clock.GetUtcNow();
            List<Storage.ObjectInfo> delete;
            int orphans;
            // Decided under the flush lock, so that no flush or DML commits (or uploads) between the listing and the
            // decision; queries pin their snapshot under the publish gate before they read it.
            await _flushLock.WaitAsync(cancellationToken);
            try
            {
                DeltaSnapshot current;
                HashSet<string> protectedPaths;
                lock (_publishGate)
                {
                    current = _deltaSnapshot;
                    protectedPaths = _pins.ProtectedPaths();
                }
                // Files of open transactions are not orphans (named after the listing: a spill may land meanwhile).
                (delete, orphans) = await DeltaVacuum.PlanAsync(_delta, current, protectedPaths, StagedPaths, now - (retain ?? options.VacuumRetention), now,
                    cancellationToken);
            }
            finally
            {
                _flushLock.Release();
            }
            // Deleting outside the lock is safe: no later snapshot can reference these files (new files get new names).
            var (files, bytes) = await DeltaVacuum.DeleteAsync(_delta.Store, delete, cancellationToken);
            var logFiles = await DeltaLogCleanup.CleanAsync(_delta, DeltaSnapshot, now - options.LogRetention, cancellationToken);
            await RecordVacuumAsync(now, files, bytes);
            _lastVacuum = now;
            if (files > 0 || logFiles > 0)
                _logger.LogInformation("{Table}: VACUUM deleted {Files} files ({Bytes} bytes, {Orphans} orphans) and {LogFiles} log files", Id, files, bytes, orphans, logFiles);
            return new VacuumResult(files, bytes, orphans, logFiles);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    /// <summary>
    /// Records the VACUUM in the Delta log as Delta Lake does (a commit of operation <c>VACUUM END</c>), with a <c>txn</c>
    /// whose <c>lastUpdated</c> is when it ran: <see cref="LastVacuum"/> reads it back after a restart. The commit changes no
    /// data (no add or remove).
    /// </summary>
    private async Task RecordVacuumAsync(DateTimeOffset now, int files, long bytes)
    {
        await _flushLock.WaitAsync(CancellationToken.None);
        try
        {
            ThrowIfFaulted();
            var current = DeltaSnapshot;
            DeltaSnapshot committed;
            try
            {
                committed = await _delta.CommitAsync(current, [new TransactionAction(VacuumAppId, current.Version + 1, now.ToUnixTimeMilliseconds())],
                    "VACUUM END", CancellationToken.None, new Dictionary<string, string>
                    {
                        ["status"] = "COMPLETED",
                        ["numDeletedFiles"] = files.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["numDeletedBytes"] = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    });
            }
            catch (DeltaCheckpointException e)
            {
                _logger.LogWarning(e, "{Table}: checkpoint after Delta version {Version} failed", Id, e.Snapshot.Version);
                committed = e.Snapshot;
            }
            Publish(committed);
        }
        finally
        {
            _flushLock.Release();
        }
    }

    /// <summary>
    /// The scheduled pass (the grain's timer): retention, OPTIMIZE of partitions over the small-file threshold, and
    /// VACUUM when <see cref="MaintenanceOptions.VacuumInterval"/> has passed. Skipped while another maintenance task runs.
    /// </summary>
    public async Task RunScheduledMaintenanceAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _fault) is not null || _maintenanceLock.CurrentCount == 0) return;
        var options = _services.Options.Maintenance;
        await ApplyRetentionAsync(cancellationToken);
        if (IsOptimizeDue)
            await OptimizeAsync(null, null, options.MaxSmallFilesPerPartition + 1, cancellationToken);
        var now = options.Clock.GetUtcNow();
        _vacuumClockStart ??= now;
        if (now - (LastVacuum ?? _vacuumClockStart.Value) >= options.VacuumInterval)
            await VacuumAsync(null, cancellationToken);
    }

    private DateTimeOffset? _vacuumClockStart;
}
