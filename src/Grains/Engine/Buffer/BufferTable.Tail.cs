using TimeFusion.Ingest;

namespace TimeFusion.Buffer;

/// <summary>
/// The tail: logged batches held as Arrow until enough of them make one DuckDB append worth its commit.
/// <para>
/// A DuckDB append transaction has a fixed cost that grows with the table's width and not with its rows: measured
/// on this machine, ~2.5–3 ms for one row of the ~90-column otel table (0.5 ms for a 2-column table), against ~8 µs
/// per further row (docs/BENCHMARKS.md, session 7). Appending every small INSERT or OTLP export on its own therefore
/// capped a table at a few hundred statements per second, whatever the coalescing of concurrent writers. So appends
/// go to the tail first (a list; the batches are already validated and owned), and the tail is moved into DuckDB in
/// one transaction when it reaches <see cref="BufferOptions.TailRows"/> rows — or before anything reads or changes
/// the DuckDB side (a snapshot, a DML, an export), so every reader still sees every row acknowledged before it began.
/// Memory is unchanged: each batch keeps the reservation taken before it was logged.
/// </para>
/// </summary>
public sealed partial class BufferTable
{
    private readonly object _tailGate = new();
    private readonly List<(ValidatedBatch Batch, long Lsn, long Bytes)> _tail = new();
    private long _tailRows;
    private long _tailBytes;
    private BufferException? _tailFault;

    /// <summary>Rows held in the tail (not yet in DuckDB).</summary>
    public long TailRows => Interlocked.Read(ref _tailRows);

    /// <summary>The memory estimate of the rows in the tail (they are counted at it when the budget is reconciled with DuckDB's measured memory).</summary>
    public long TailBytes => Interlocked.Read(ref _tailBytes);

    /// <summary>Set when moving the tail into DuckDB failed: rows the WAL holds are not in the buffer; the table must be reopened.</summary>
    public BufferException? TailFault => Volatile.Read(ref _tailFault);

    /// <summary>
    /// Adds a logged group to the tail (under the append lock, LSNs already checked); true when the tail is due to
    /// move, which the caller then does before returning. A group that stays in the tail is copied: the caller owns its
    /// batches and may dispose or reuse their buffers once the append returns (a replay's read buffers, a test's batch).
    /// </summary>
    private bool AddToTail(IReadOnlyList<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)> group, long rows)
    {
        lock (_tailGate)
        {
            var due = _tailRows + rows >= _db.Options.TailRows || IsLarge(rows);
            long bytes = 0;
            foreach (var item in group)
            {
                var estimate = EstimateBytes(item.Batch.Batch);
                _tail.Add((due ? item.Batch : item.Batch.Copy(), item.Lsn, estimate));
                bytes += estimate;
            }
            Interlocked.Add(ref _tailRows, rows);
            Interlocked.Add(ref _tailBytes, bytes);
            return due;
        }
    }

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

    /// <summary>
    /// As <see cref="DrainTailAsync"/>, for the synchronous snapshot path: blocks the caller for the append lock (held
    /// only while DuckDB appends, milliseconds). Snapshots open within a grain's turn, synchronously, so that no flush
    /// or DML can fall between choosing the Delta version and pinning the buffer.
    /// </summary>
    private void DrainTailForRead()
    {
        ThrowIfTailFaulted();
        if (Interlocked.Read(ref _tailRows) == 0)
            return;
        _appendLock.Wait();
        try
        {
            ThrowIfDisposed();
            DrainTailLocked();
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
        lock (_tailGate)
        {
            _tail.RemoveRange(0, items.Length);
            Interlocked.Add(ref _tailRows, -rows);
            Interlocked.Add(ref _tailBytes, -bytes);
        }
    }

    /// <summary>
    /// A group of at least an eighth of <see cref="BufferOptions.TailRows"/> goes to DuckDB at once (with the tail
    /// before it): its commit is already a small part of its append, and holding it would cost a copy of its rows.
    /// </summary>
    private bool IsLarge(long rows) => rows >= Math.Max(1, _db.Options.TailRows / 8);

    private void ThrowIfTailFaulted()
    {
        if (Volatile.Read(ref _tailFault) is { } fault)
            throw fault;
    }
}
