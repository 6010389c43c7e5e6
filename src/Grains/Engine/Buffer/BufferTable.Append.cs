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

    private async Task AppendValidatedAsync(ValidatedBatch batch, long lsn, MemoryReservation reservation, CancellationToken cancellationToken)
    {
        try
        {
            await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            reservation.Release();
            throw;
        }
        try
        {
            ThrowIfDisposed();
            if (lsn < _maxLsn)
                throw new ArgumentOutOfRangeException(nameof(lsn), lsn, $"LSNs must not decrease: the buffer of {Id} already holds LSN {_maxLsn}");
            if (lsn <= Interlocked.Read(ref _deletedUpTo))
                throw new ArgumentOutOfRangeException(nameof(lsn), lsn, $"the buffer of {Id} was already flushed up to LSN {_deletedUpTo}");
            if (batch.Length > 0)
            {
                var active = _appenderTarget!;
                if (ShouldSeal(active))
                {
                    Rotate();
                    active = _appenderTarget!;
                }
                // Widen before committing: a snapshot deciding from the bounds must never miss a committed row.
                lock (_gate)
                    active.Widen(lsn);
                AppendInTransaction(batch, lsn);
                lock (_gate)
                    active.Rows += batch.Length;
            }
            reservation.MarkHeld();
            _reservations.Add(lsn, reservation);
            Interlocked.Exchange(ref _maxLsn, lsn);
        }
        catch
        {
            reservation.Release();
            throw;
        }
        finally
        {
            _appendLock.Release();
        }
    }

    private void AppendInTransaction(ValidatedBatch batch, long lsn)
    {
        var connection = _appendConnection!;
        var appender = _appender!;
        DuckDbCommands.Execute(connection, "BEGIN TRANSACTION");
        try
        {
            appender.Append(batch, lsn);
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
            throw new BufferException($"appending {batch.Length} rows to the buffer of {Id} failed: {e.Message}", e);
        }
    }
}
