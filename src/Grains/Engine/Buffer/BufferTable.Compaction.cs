using DuckDB.NET.Data;
using TimeFusion.DuckDb;

namespace TimeFusion.Buffer;

/// <summary>Compaction: sealing, merging and CHECKPOINTing generations in the background, and detaching dropped ones.</summary>
public sealed partial class BufferTable
{
    /// <summary>
    /// Seals the generation taking appends and compresses every sealed generation changed since its last
    /// CHECKPOINT, then reconciles the budget. Appends are not blocked by the compression (it never runs on the
    /// generation taking them); DML, exports and deletes of this table wait. Returns false when DuckDB deferred a
    /// checkpoint — a committed UPDATE's old row versions are still visible to an open snapshot — in which case
    /// that generation stays uncompressed until a later try.
    /// </summary>
    /// <exception cref="BufferException">A checkpoint failed for another reason.</exception>
    public async Task<bool> CheckpointAsync(CancellationToken cancellationToken)
    {
        await SealActiveIfAsync(g => !g.IsEmpty, cancellationToken).ConfigureAwait(false);
        var all = await CompressSealedAsync(cancellationToken, all: true).ConfigureAwait(false);
        await _db.ReconcileMemoryAsync().ConfigureAwait(false);
        return all;
    }

    /// <param name="cancellationToken">Cancels between generations.</param>
    /// <param name="all">Also compress generations that an export already covers (and a delete will soon drop).</param>
    private async Task<bool> CompressSealedAsync(CancellationToken cancellationToken, bool all = false)
    {
        while (true)
        {
            // One generation per turn of the maintenance lock, so that flushes and DML queued behind it are not
            // starved while appends keep sealing new generations.
            await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ThrowIfDisposed();
                BufferGeneration? target, into = null;
                lock (_gate)
                {
                    // Generations an export covers are about to be detached: compressing them would only delay the delete.
                    var boundary = all ? -1 : _pendingFlushLsn;
                    target = _generations.FirstOrDefault(g => g.Sealed && !g.Compressed && !g.IsEmpty && (boundary < 0 || g.MaxLsn > boundary));
                    if (target is null)
                        return true;
                    var index = _generations.IndexOf(target);
                    if (index > 0 && _generations[index - 1] is { Sealed: true, Compressed: true } previous && SameSideOfPendingFlush(previous, target))
                        into = previous;
                }
                var ran = await Task.Run(() => into is null ? Checkpoint(target) : Merge(target, into), CancellationToken.None).ConfigureAwait(false);
                if (!ran)
                    return false; // deferred: retried later
            }
            finally
            {
                _maintenanceLock.Release();
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Whether two generations lie on the same side of the LSN of an export still waiting for its delete (under the generation lock).</summary>
    private bool SameSideOfPendingFlush(BufferGeneration a, BufferGeneration b)
    {
        var boundary = _pendingFlushLsn;
        if (boundary < 0)
            return true;
        return (a.MaxLsn <= boundary && b.MaxLsn <= boundary) || (a.MinLsn > boundary && b.MinLsn > boundary);
    }

    /// <summary>
    /// Moves the rows of sealed generation <paramref name="source"/> into the compressed generation <paramref name="into"/>
    /// before it, then compresses the new rows. The copy commits together with the swap of the generation list, under
    /// the generation lock, so no snapshot sees the rows twice or not at all; snapshots already reading
    /// <paramref name="source"/> keep it until they close.
    /// </summary>
    private bool Merge(BufferGeneration source, BufferGeneration into)
    {
        var pool = _db.Connections;
        var connection = pool.Rent();
        var reusable = true;
        var detach = false;
        try
        {
            DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
            try
            {
                var rows = DuckDbCommands.Execute(connection, $"INSERT INTO {into.QuotedTable} SELECT * FROM {source.QuotedTable}");
                lock (_gate)
                {
                    DuckDbCommands.Execute(connection, "COMMIT");
                    into.Widen(source.MinLsn);
                    into.Widen(source.MaxLsn);
                    into.Rows += rows;
                    into.Compressed = false;
                    _generations.Remove(source);
                    source.Dropped = true;
                    if (source.Readers == 0 && !source.Detached)
                        detach = source.Detached = true;
                }
            }
            catch (DuckDBException e)
            {
                reusable = DuckDbCommands.TryRollback(connection);
                throw new BufferException($"merging a generation of the buffer of {Id} failed: {e.Message}", e);
            }
        }
        finally
        {
            pool.Return(connection, reusable);
        }
        if (detach)
            DetachNow([source], background: true);
        return Checkpoint(into);
    }

    private bool Checkpoint(BufferGeneration generation)
    {
        var pool = _db.Connections;
        var connection = pool.Rent();
        var reusable = true;
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            DuckDbCommands.Execute(connection, $"CHECKPOINT {generation.QuotedDatabase}");
            Stats.RecordCheckpoint(clock.Elapsed);
            lock (_gate)
                generation.Compressed = true;
            return true;
        }
        catch (DuckDBException e) when (e.Message.Contains("Cannot CHECKPOINT", StringComparison.OrdinalIgnoreCase))
        {
            Stats.RecordDeferral();
            return false;
        }
        catch (DuckDBException e)
        {
            reusable = DuckDbCommands.TryRollback(connection);
            throw new BufferException($"CHECKPOINT of the buffer of {Id} failed: {e.Message}", e);
        }
        finally
        {
            pool.Return(connection, reusable);
        }
    }

    private int _compressionPaused;
    private int _compressionDeferred;

    /// <summary>
    /// Recovery: holds background compression (merge + CHECKPOINT of sealed generations, about a third of the CPU of a
    /// replay) back while the WAL replays, so that the table answers its first query sooner; disposing the handle
    /// resumes it and compresses what was sealed meanwhile. Memory accounting is unchanged: reservations are
    /// estimated from the uncompressed rows either way.
    /// </summary>
    internal IDisposable PauseCompression()
    {
        Interlocked.Increment(ref _compressionPaused);
        return new CompressionPause(this);
    }

    private sealed class CompressionPause(BufferTable table) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            if (Interlocked.Decrement(ref table._compressionPaused) == 0 && Interlocked.Exchange(ref table._compressionDeferred, 0) == 1)
                table.RequestCompression();
        }
    }

    /// <summary>
    /// Asks for the sealed generations to be compressed in the background. Requests made while one is queued are
    /// coalesced; at most <see cref="BufferOptions.MaxConcurrentCheckpoints"/> run at once; a deferred one is retried
    /// after <see cref="BufferOptions.CheckpointRetryDelay"/>. Failures are logged and kept in <see cref="BufferDatabase.LastBackgroundError"/>.
    /// </summary>
    internal void RequestCompression()
    {
        if (Volatile.Read(ref _compressionPaused) != 0)
        {
            Volatile.Write(ref _compressionDeferred, 1);
            if (Volatile.Read(ref _compressionPaused) != 0) return; // resumed meanwhile: go on and request it
        }
        if (!_db.Options.CompressInBackground || Volatile.Read(ref _disposed) != 0 || Interlocked.Exchange(ref _compressionRequested, 1) == 1)
            return;
        lock (_backgroundGate)
        {
            _backgroundCompression = _backgroundCompression.ContinueWith(_ => RunRequestedCompressionAsync(), CancellationToken.None,
                TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private async Task RunRequestedCompressionAsync()
    {
        var shutdown = _db.ShutdownToken;
        try
        {
            await _db.CheckpointSlots.WaitAsync(shutdown).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        bool all;
        try
        {
            Interlocked.Exchange(ref _compressionRequested, 0);
            if (Volatile.Read(ref _disposed) != 0)
                return;
            all = await CompressSealedAsync(shutdown).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
            return;
        }
        catch (Exception e)
        {
            _db.ReportBackgroundError(e, $"Background CHECKPOINT of the buffer of {Id}");
            return;
        }
        finally
        {
            _db.CheckpointSlots.Release();
        }
        _ = ReconcileInBackgroundAsync();
        if (!all)
            _ = RetryCompressionLaterAsync(shutdown);
    }

    private async Task RetryCompressionLaterAsync(CancellationToken shutdown)
    {
        try
        {
            await Task.Delay(_db.Options.CheckpointRetryDelay, shutdown).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        RequestCompression();
    }

    private async Task ReconcileInBackgroundAsync()
    {
        try
        {
            await _db.ReconcileMemoryAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            _db.ReportBackgroundError(e, "Reconciling the buffer memory budget with DuckDB");
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Marks generations dropped and detaches those no snapshot reads (the others detach when their last reader closes).</summary>
    private void DropGenerations(List<BufferGeneration> generations)
    {
        var detach = new List<BufferGeneration>();
        lock (_gate)
        {
            foreach (var g in generations)
            {
                _generations.Remove(g);
                g.Dropped = true;
                if (g.Readers == 0 && !g.Detached)
                {
                    g.Detached = true;
                    detach.Add(g);
                }
            }
        }
        DetachNow(detach, background: false);
    }

    private void DetachNow(List<BufferGeneration> generations, bool background)
    {
        if (generations.Count == 0)
            return;
        var pool = _db.Connections;
        DuckDBConnection connection;
        try
        {
            connection = pool.Rent();
        }
        catch (ObjectDisposedException)
        {
            return; // the instance is closing: everything goes with it
        }
        var reusable = true;
        try
        {
            foreach (var g in generations)
                DuckDbCommands.Execute(connection, $"DETACH DATABASE IF EXISTS {g.QuotedDatabase}");
        }
        catch (DuckDBException e)
        {
            reusable = false;
            var error = new BufferException($"detaching a generation of the buffer of {Id} failed: {e.Message}", e);
            if (!background)
                throw error;
            _db.ReportBackgroundError(error, $"Detaching a generation of the buffer of {Id}");
        }
        finally
        {
            pool.Return(connection, reusable);
        }
        _ = ReconcileInBackgroundAsync();
    }
}
