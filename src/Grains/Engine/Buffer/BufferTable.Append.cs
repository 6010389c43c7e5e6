using Apache.Arrow;
using TimeFusion.DuckDb;
using TimeFusion.Ingest;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>Appending: batches become rows of the generation taking appends, each batch in one transaction.</summary>
public sealed partial class BufferTable
{
    /// <summary>The buffer database's options (<see cref="BufferOptions.ValidateUtf8"/> for callers validating rows for this table).</summary>
    internal BufferOptions Options => _db.Options;

    /// <summary>The memory estimate for appending <paramref name="batch"/> (Arrow bytes plus the LSN column, times the estimate factor).</summary>
    public long EstimateBytes(RecordBatch batch) =>
        (long)Math.Ceiling((ArrowSizeEstimator.DataBytes(batch) + 8L * batch.Length) * _db.Options.EstimateFactor);

    /// <summary>
    /// Appends a batch tagged with <paramref name="lsn"/>, reserving its memory from the budget first (waiting
    /// up to <see cref="BufferOptions.ReserveMaxWait"/>). All rows or none are appended.
    /// </summary>
    /// <exception cref="SchemaException">The batch was validated against another table's columns.</exception>
    /// <exception cref="MemoryPressureException">No memory within the allowed wait (retryable).</exception>
    /// <exception cref="BufferException">DuckDB refused the rows (e.g. a NOT NULL violation); nothing was appended.</exception>
    public async Task AppendAsync(ValidatedBatch batch, long lsn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(lsn);
        RequireFits(batch);
        var reservation = await _db.Budget.ReserveAsync(EstimateBytes(batch.Batch), _db.Options.ReserveMaxWait, cancellationToken).ConfigureAwait(false);
        await AppendValidatedAsync(batch, lsn, reservation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Appends a batch tagged with <paramref name="lsn"/> using a reservation the caller took earlier (e.g. before
    /// writing the WAL). The table takes the reservation over: it is released if the append fails, and otherwise
    /// when rows up to <paramref name="lsn"/> are deleted after a flush.
    /// </summary>
    /// <exception cref="SchemaException">The batch was validated against another table's columns.</exception>
    /// <exception cref="BufferException">DuckDB refused the rows; nothing was appended.</exception>
    public async Task AppendAsync(ValidatedBatch batch, long lsn, MemoryReservation reservation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        try
        {
            ArgumentNullException.ThrowIfNull(batch);
            ArgumentOutOfRangeException.ThrowIfNegative(lsn);
            RequireFits(batch);
        }
        catch
        {
            reservation.Release();
            throw;
        }
        await AppendValidatedAsync(batch, lsn, reservation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The batch was validated (the type says so), but against this table? A cheap check per batch, not per row:
    /// DuckDB's conversion would otherwise read the columns by the wrong types.
    /// </summary>
    private void RequireFits(ValidatedBatch batch)
    {
        if (!batch.Fits(Schema))
            throw new SchemaException($"table '{Schema.Name}': the batch was validated against {(batch.Table is null ? "no table" : $"table '{batch.Table.Name}' with other columns")}");
    }

    /// <summary>
    /// Appends several batches, each tagged with its own LSN (increasing), in ONE buffer transaction: all of them or
    /// none. The table takes every reservation over, as <see cref="AppendAsync(ValidatedBatch, long, MemoryReservation, CancellationToken)"/>
    /// does for one (all are released if the append fails). Concurrent writers of one table coalesce their batches
    /// through this, so that they share DuckDB's commit.
    /// </summary>
    /// <exception cref="SchemaException">A batch was validated against another table's columns.</exception>
    /// <exception cref="BufferException">DuckDB refused the rows; nothing was appended.</exception>
    public async Task AppendAsync(IReadOnlyList<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)> group, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(group);
        try
        {
            if (group.Count == 0)
                throw new ArgumentException("the group is empty", nameof(group));
            for (var i = 0; i < group.Count; i++)
            {
                ArgumentNullException.ThrowIfNull(group[i].Batch);
                ArgumentNullException.ThrowIfNull(group[i].Reservation);
                ArgumentOutOfRangeException.ThrowIfNegative(group[i].Lsn);
                if (i > 0 && group[i].Lsn <= group[i - 1].Lsn)
                    throw new ArgumentOutOfRangeException(nameof(group), group[i].Lsn, "the group's LSNs must increase");
                RequireFits(group[i].Batch);
            }
        }
        catch
        {
            foreach (var item in group)
                item.Reservation?.Release();
            throw;
        }
        await AppendValidatedAsync(group, cancellationToken).ConfigureAwait(false);
    }

    private Task AppendValidatedAsync(ValidatedBatch batch, long lsn, MemoryReservation reservation, CancellationToken cancellationToken) =>
        AppendValidatedAsync([(batch, lsn, reservation)], cancellationToken);

    private async Task AppendValidatedAsync(IReadOnlyList<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)> group, CancellationToken cancellationToken)
    {
        var drain = false;
        try
        {
            await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ReleaseAll(group);
            throw;
        }
        try
        {
            ThrowIfDisposed();
            var (first, last) = (group[0].Lsn, group[^1].Lsn);
            if (first < _maxLsn)
                throw new ArgumentOutOfRangeException("lsn", first, $"LSNs must not decrease: the buffer of {Id} already holds LSN {_maxLsn}");
            if (first <= Interlocked.Read(ref _deletedUpTo))
                throw new ArgumentOutOfRangeException("lsn", first, $"the buffer of {Id} was already flushed up to LSN {_deletedUpTo}");
            long rows = 0;
            foreach (var item in group)
                rows += item.Batch.Length;
            if (!TailEnabled)
            {
                // Straight to DuckDB, where a refusal fails this call alone and leaves nothing behind (the reservations
                // go back below).
                AppendToDuckDb(group.Select(g => (g.Batch, g.Lsn)).ToList(), rows);
            }
            else if (rows > 0 && AddToTail(group, rows))
            {
                // Logged rows stay Arrow in the tail until a flush writes them (see BufferTable.Tail); this many
                // move into DuckDB's compressed generations.
                drain = true;
            }
            foreach (var item in group)
            {
                item.Reservation.MarkHeld();
                _reservations.Add(item.Lsn, item.Reservation);
            }
            Interlocked.Exchange(ref _maxLsn, last);
        }
        catch
        {
            ReleaseAll(group);
            _appendLock.Release();
            throw;
        }
        try
        {
            // The group is in the tail and its reservations are held: from here a failure faults the table, it never
            // hands the reservations back (the rows are logged and must reach the buffer on reopening).
            if (drain)
                DrainTailLocked();
        }
        finally
        {
            _appendLock.Release();
        }
    }

    /// <summary>Under the append lock: appends logged batches to the generation taking appends, in one transaction.</summary>
    private void AppendToDuckDb(IReadOnlyList<(ValidatedBatch Batch, long Lsn)> items, long rows)
    {
        var (first, last) = (items[0].Lsn, items[^1].Lsn);
        var active = _appenderTarget!;
        if (ShouldSeal(active))
        {
            Rotate();
            active = _appenderTarget!;
        }
        // Widen before committing: a snapshot deciding from the bounds must never miss a committed row.
        lock (_gate)
        {
            active.Widen(first);
            active.Widen(last);
        }
        AppendInTransaction(items, rows);
        lock (_gate)
            active.Rows += rows;
        Stats.RecordAppend(items.Count);
    }

    private static void ReleaseAll(IReadOnlyList<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)> group)
    {
        foreach (var item in group)
            item.Reservation.Release();
    }

    private void AppendInTransaction(IReadOnlyList<(ValidatedBatch Batch, long Lsn)> group, long rows)
    {
        var connection = _appendConnection!;
        var appender = _appender!;
        DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
        try
        {
            // One appender flush for the group: its fixed cost per call is most of a small batch's append.
            foreach (var item in group)
                appender.Append(item.Batch, item.Lsn, flush: false);
            appender.Flush();
            DuckDbCommands.Execute(connection, "COMMIT");
        }
        catch (Exception e)
        {
            appender.Abandon();
            if (!DuckDbCommands.TryRollback(connection))
            {
                // The connection is in an unknown state: replace it (and the appender on it).
                appender.Dispose();
                connection.Dispose();
                _appender = null;
                _appendConnection = null;
                Retarget(_appenderTarget!);
            }
            if (e is BufferException)
                throw;
            throw new BufferException($"appending {rows} rows to the buffer of {Id} failed: {e.Message}", e);
        }
    }
}
