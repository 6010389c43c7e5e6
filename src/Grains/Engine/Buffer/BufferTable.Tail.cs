using Apache.Arrow;
using TimeFusion.DuckDb;
using TimeFusion.Ingest;

namespace TimeFusion.Buffer;

/// <summary>
/// The tail: the newest logged rows, held as Arrow and read by queries through <c>tf_arrow_scan</c>
/// (<see cref="ArrowScanFunction"/>) instead of being appended to DuckDB.
/// <para>
/// Appending to DuckDB was most of the write path: a transaction's fixed cost (~2.5–3 ms on the ~90-column otel
/// table however few its rows), then ~5.5 µs per row for the conversion and storage, then ~3.7 µs per row for the
/// CHECKPOINT that compresses a sealed generation — and a flush then read the rows back out of DuckDB to write Parquet
/// (docs/BENCHMARKS.md, sessions 7 and 8). Rows in the tail cost a copy to the pinned object heap (DuckDB's scan
/// points into the buffers, so they must never move), and a flush writes them straight from the tail.
/// </para>
/// <para>
/// The tail moves into DuckDB in one transaction when it reaches <see cref="BufferOptions.TailRows"/> rows (a flush
/// that cannot keep up: DuckDB's compressed generations then hold the rows in about a tenth of the memory) and before
/// a DML statement, which DuckDB applies to its own tables. Snapshots and exports read the tail as it is: every batch
/// in it has a higher LSN than every row of the generations, so a reader takes the tail's batches above its LSN and
/// reads the generations below the lowest LSN it took — a move into DuckDB at the same moment can neither hide nor
/// duplicate a row. Memory: each batch keeps the reservation taken before it was logged.
/// </para>
/// </summary>
public sealed partial class BufferTable
{
    private readonly object _tailGate = new();
    private readonly List<(ValidatedBatch Batch, long Lsn, long Bytes)> _tail = new();
    private long _tailRows;
    private long _tailBytes;
    private BufferException? _tailFault;
    private ArrowScanColumns? _scanColumns;

    /// <summary>Rows held in the tail (not in DuckDB).</summary>
    public long TailRows => Interlocked.Read(ref _tailRows);

    /// <summary>The memory estimate of the rows in the tail (they are counted at it when the budget is reconciled with DuckDB's measured memory).</summary>
    public long TailBytes => Interlocked.Read(ref _tailBytes);

    /// <summary>Set when moving the tail into DuckDB failed: rows the WAL holds are not in the buffer; the table must be reopened.</summary>
    public BufferException? TailFault => Volatile.Read(ref _tailFault);

    /// <summary>Whether logged rows go to the tail (<see cref="BufferOptions.TailRows"/> above zero) rather than straight to DuckDB.</summary>
    private bool TailEnabled => _db.Options.TailRows > 0;

    /// <summary>
    /// Adds a logged group to the tail (under the append lock, LSNs already checked); true when the tail is due to
    /// move into DuckDB, which the caller then does before returning. The group is copied to memory that never moves:
    /// the caller owns its batches and may reuse their buffers once the append returns (a replay's read buffers), and
    /// DuckDB's scan reads the copies in place.
    /// </summary>
    private bool AddToTail(IReadOnlyList<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)> group, long rows)
    {
        var copies = new (ValidatedBatch Batch, long Lsn, long Bytes)[group.Count];
        long bytes = 0;
        for (var i = 0; i < group.Count; i++)
        {
            var (batch, lsn, _) = group[i];
            var estimate = EstimateBytes(batch.Batch);
            copies[i] = (batch.CopyPinned(), lsn, estimate);
            bytes += estimate;
        }
        lock (_tailGate)
        {
            _tail.AddRange(copies);
            Interlocked.Add(ref _tailRows, rows);
            Interlocked.Add(ref _tailBytes, bytes);
            return _tailRows >= _db.Options.TailRows;
        }
    }

    /// <summary>
    /// The tail's batches with LSN above <paramref name="aboveLsn"/> and at most <paramref name="upToLsn"/>, and the
    /// lowest LSN in the tail when they were taken (long.MaxValue when it was empty): a reader must take the
    /// generations' rows below that LSN only.
    /// </summary>
    private (List<RecordBatch> Batches, long TailStart) TakeTail(long aboveLsn, long upToLsn)
    {
        lock (_tailGate)
        {
            var batches = new List<RecordBatch>();
            foreach (var (batch, lsn, _) in _tail)
            {
                if (lsn > aboveLsn && lsn <= upToLsn)
                    batches.Add(batch.Batch);
            }
            return (batches, _tail.Count == 0 ? long.MaxValue : _tail[0].Lsn);
        }
    }

    /// <summary>Registers <paramref name="batches"/> for <c>tf_arrow_scan</c> with this table's columns (at most <paramref name="maxThreads"/> scanning, 0 = all cores).</summary>
    private ArrowScanSource RegisterScan(IReadOnlyList<RecordBatch> batches, int maxThreads = 0) =>
        _db.ArrowScan.Register(_scanColumns ?? throw new ObjectDisposedException(nameof(BufferTable)), batches, maxThreads);

    /// <summary>Moves the tail into DuckDB (one transaction) if it holds anything. Returns once every row added before the call is there.</summary>
    /// <exception cref="BufferException">DuckDB refused the rows: the table is faulted (<see cref="TailFault"/>).</exception>
    public async Task DrainTailAsync()
    {
        ThrowIfTailFaulted();
        if (Interlocked.Read(ref _tailRows) == 0)
            return;
        await _appendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            await Task.Run(DrainTailLocked).ConfigureAwait(false);
        }
        finally
        {
            _appendLock.Release();
        }
    }

    /// <summary>Under the append lock: appends the tail as it is now in one transaction, then removes what was appended.</summary>
    private void DrainTailLocked()
    {
        ThrowIfTailFaulted();
        (ValidatedBatch Batch, long Lsn, long Bytes)[] items;
        lock (_tailGate)
            items = _tail.ToArray();
        if (items.Length == 0)
            return;
        long rows = 0, bytes = 0;
        foreach (var item in items)
        {
            rows += item.Batch.Length;
            bytes += item.Bytes;
        }
        try
        {
            AppendToDuckDb(items.Select(i => (i.Batch, i.Lsn)).ToList(), rows);
        }
        catch (Exception e)
        {
            var fault = e as BufferException ?? new BufferException($"moving {rows} logged rows into the buffer of {Id} failed: {e.Message}", e);
            Interlocked.CompareExchange(ref _tailFault, fault, null);
            throw fault;
        }
        // Readers that took the tail before this see these rows twice nowhere: they read the generations below the
        // tail's lowest LSN only (TakeTail).
        lock (_tailGate)
        {
            _tail.RemoveRange(0, items.Length);
            Interlocked.Add(ref _tailRows, -rows);
            Interlocked.Add(ref _tailBytes, -bytes);
        }
    }

    /// <summary>Under the append lock: drops the tail's batches with LSN at or below <paramref name="lsn"/> (flushed). Returns the rows dropped.</summary>
    private long DropTailUpTo(long lsn)
    {
        lock (_tailGate)
        {
            var count = 0;
            long rows = 0, bytes = 0;
            while (count < _tail.Count && _tail[count].Lsn <= lsn)
            {
                rows += _tail[count].Batch.Length;
                bytes += _tail[count].Bytes;
                count++;
            }
            _tail.RemoveRange(0, count);
            Interlocked.Add(ref _tailRows, -rows);
            Interlocked.Add(ref _tailBytes, -bytes);
            return rows;
        }
    }

    private void ThrowIfTailFaulted()
    {
        if (Volatile.Read(ref _tailFault) is { } fault)
            throw fault;
    }
}
