using System.Diagnostics;
using Apache.Arrow;
using Apache.Arrow.Types;
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
    /// <summary>
    /// Rows of small batches gathered into one chunk of the tail: DuckDB's vector size. Every batch costs the scan a
    /// slice of its own (an export and a conversion of each column), which for 30-row INSERTs made a flush's export
    /// cost twice what appending them to DuckDB had (docs/BENCHMARKS.md, session 8).
    /// </summary>
    private const int ChunkRows = 2_048;

    private readonly object _tailGate = new();
    private readonly List<TailChunk> _tail = new(); // LSN order; changed only under the append lock
    private long _tailRows;
    private long _tailBytes;
    private int _smallChunks; // trailing chunks of small batches not yet gathered
    private long _smallRows;
    private BufferException? _tailFault;
    private ArrowScanColumns? _scanColumns;
    private Schema? _tailSchema; // the schema object the tail's batches share (see Canonical)

    /// <summary>Rows held in the tail (not in DuckDB).</summary>
    public long TailRows => Interlocked.Read(ref _tailRows);

    /// <summary>The memory estimate of the rows in the tail (they are counted at it when the budget is reconciled with DuckDB's measured memory).</summary>
    public long TailBytes => Interlocked.Read(ref _tailBytes);

    /// <summary>Chunks the tail holds (tests: small batches are gathered).</summary>
    internal int TailChunks
    {
        get
        {
            lock (_tailGate)
                return _tail.Count;
        }
    }

    /// <summary>The tail's chunks as they are now (tests: what gathering made of small batches).</summary>
    internal IReadOnlyList<RecordBatch> TailBatches
    {
        get
        {
            lock (_tailGate)
                return _tail.Select(c => c.Batch).ToList();
        }
    }

    /// <summary>Set when moving the tail into DuckDB failed: rows the WAL holds are not in the buffer; the table must be reopened.</summary>
    public BufferException? TailFault => Volatile.Read(ref _tailFault);

    /// <summary>Whether logged rows go to the tail (<see cref="BufferOptions.TailRows"/> above zero) rather than straight to DuckDB.</summary>
    private bool TailEnabled => _db.Options.TailRows > 0;

    /// <summary>
    /// The batch as the tail will keep it: in a pinned block of its own (<see cref="ValidatedBatch.ToPinned"/>) when
    /// logged rows go to the tail, else unchanged. A writer calls this before logging its batch, on its own thread, so
    /// that <see cref="AddToTail"/> (one writer at a time, under the append lock) finds the copy made.
    /// </summary>
    internal ValidatedBatch PrepareForTail(ValidatedBatch batch) => TailEnabled ? batch.ToPinned() : batch;

    /// <summary>
    /// Adds a logged group to the tail (under the append lock, LSNs already checked); true when the tail is due to
    /// move into DuckDB, which the caller then does before returning. The group is copied to memory that never moves:
    /// the caller owns its batches and may reuse their buffers once the append returns (a replay's read buffers), and
    /// DuckDB's scan reads the copies in place. A replayed batch already in a pinned block of its own is kept as it is
    /// (<see cref="ValidatedBatch.InPinnedBlock"/>). Small batches are gathered into chunks of <see cref="ChunkRows"/> rows.
    /// </summary>
    private bool AddToTail(IReadOnlyList<(ValidatedBatch Batch, long Lsn, MemoryReservation Reservation)> group, long rows)
    {
        var chunks = new TailChunk[group.Count];
        long bytes = 0;
        for (var i = 0; i < group.Count; i++)
        {
            var (batch, lsn, reservation) = group[i];
            // Every caller reserved EstimateBytes of this batch before logging it (the pinned copy measures the same:
            // the estimate counts rows and value bytes, not buffers): its reservation is the estimate, not measured again.
            Debug.Assert(reservation.Bytes == EstimateBytes(batch.Batch));
            var estimate = reservation.Bytes;
            var facts = TailRowFacts.Of(batch.Batch, Schema);
            chunks[i] = new TailChunk(Canonical(batch.ToPinned().Batch), [new TailPart(lsn, 0, batch.Length, estimate, facts)]);
            bytes += estimate;
        }
        lock (_tailGate)
        {
            foreach (var chunk in chunks)
            {
                _tail.Add(chunk);
                if (chunk.Batch.Length >= ChunkRows)
                {
                    (_smallChunks, _smallRows) = (0, 0);
                    continue;
                }
                _smallChunks++;
                _smallRows += chunk.Batch.Length;
            }
            Interlocked.Add(ref _tailRows, rows);
            Interlocked.Add(ref _tailBytes, bytes);
        }
        RaiseExportIfBehind();
        if (_smallRows >= ChunkRows && _smallChunks > 1)
            GatherSmallChunks();
        return Interlocked.Read(ref _tailRows) >= _db.Options.TailRows;
    }

    /// <summary>
    /// The batch over the table's one schema object when its columns have the same names and Arrow types (validated
    /// batches do): the scan converts a schema for DuckDB once per distinct object, and each INSERT brings its own.
    /// </summary>
    private RecordBatch Canonical(RecordBatch batch)
    {
        var canonical = _tailSchema;
        if (ReferenceEquals(batch.Schema, canonical))
            return batch;
        if (canonical is null || !SameColumns(batch.Schema, canonical))
        {
            _tailSchema ??= batch.Schema;
            return batch;
        }
        return new RecordBatch(canonical, Enumerable.Range(0, batch.ColumnCount).Select(batch.Column), batch.Length);
    }

    private static bool SameColumns(Schema a, Schema b)
    {
        if (a.FieldsList.Count != b.FieldsList.Count)
            return false;
        for (var i = 0; i < a.FieldsList.Count; i++)
        {
            var (x, y) = (a.FieldsList[i], b.FieldsList[i]);
            if (!string.Equals(x.Name, y.Name, StringComparison.Ordinal) || x.IsNullable != y.IsNullable || !Ingest.ArrowTypeAcceptance.SameCanonicalType(x.DataType, y.DataType))
                return false;
        }
        return true;
    }

    private static bool SameGatherType(IArrowType x, IArrowType y) => (x, y) switch
    {
        (TimestampType a, TimestampType b) => a.Unit == b.Unit && a.Timezone == b.Timezone,
        (ListType a, ListType b) => SameGatherType(a.ValueDataType, b.ValueDataType),
        _ => x.TypeId == y.TypeId,
    };

    /// <summary>Under the append lock: replaces the trailing small chunks by one (a copy of their rows, in order).</summary>
    private void GatherSmallChunks()
    {
        List<TailChunk> small;
        lock (_tailGate)
            small = _tail.GetRange(_tail.Count - _smallChunks, _smallChunks);
        TailChunk gathered;
        try
        {
            var first = small[0].Batch;
            var arrays = new IArrowArray[first.ColumnCount];
            // Block copies into pinned buffers of the exact size (Apache.Arrow's concatenation appends validity bit by bit
            // through a builder: a tenth of a silo's CPU under 30-row INSERTs); other types take that concatenation.
            using var gather = new ArrowGather(pinned: true);
            var runs = new GatherRun[small.Count];
            var rows = 0;
            for (var k = 0; k < small.Count; k++)
            {
                runs[k] = new GatherRun(k, 0, small[k].Batch.Length);
                rows += small[k].Batch.Length;
            }
            var columns = new IArrowArray[small.Count];
            for (var c = 0; c < arrays.Length; c++)
            {
                bool allNull = true, sameType = true;
                for (var k = 0; k < columns.Length; k++)
                {
                    var column = columns[k] = small[k].Batch.Column(c);
                    allNull &= column.NullCount == column.Length;
                    sameType &= k == 0 || SameGatherType(column.Data.DataType, columns[0].Data.DataType);
                }
                var type = columns[0].Data.DataType;
                // A column no INSERT of the run filled (most of a wide table's, under small INSERTs) stays the shared
                // zeros its batches already point to (NullColumns): nothing to copy, nothing to allocate.
                if (allNull && sameType && rows <= NullColumns.PinnedRows && NullColumns.Supports(type))
                    arrays[c] = NullColumns.Of(type, rows);
                else if (ArrowGather.CanTake(type) && sameType)
                    arrays[c] = gather.Take(columns, runs, rows);
                else
                    arrays[c] = Wire.ManagedArrowMemory.Concatenate(columns, pinned: true);
            }
            var parts = new List<TailPart>();
            var offset = 0;
            foreach (var k in small)
            {
                foreach (var part in k.Parts)
                    parts.Add(part with { Offset = offset + part.Offset });
                offset += k.Batch.Length;
            }
            gathered = new TailChunk(new RecordBatch(first.Schema, arrays, offset), parts);
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException or InvalidOperationException)
        {
            // A column kind the concatenation does not handle: the batches stay as they are (scanned one by one).
            (_smallChunks, _smallRows) = (0, 0);
            return;
        }
        lock (_tailGate)
        {
            _tail.RemoveRange(_tail.Count - small.Count, small.Count);
            _tail.Add(gathered);
            (_smallChunks, _smallRows) = (0, 0);
        }
    }

    /// <summary>
    /// The tail's rows with LSN above <paramref name="aboveLsn"/> and at most <paramref name="upToLsn"/> (whole chunks,
    /// or zero-copy slices of them), and the lowest LSN in the tail when they were taken (long.MaxValue when it was
    /// empty): a reader must take the generations' rows below that LSN only. With them, the facts of each batch's rows
    /// (<see cref="TailRowFacts"/>).
    /// </summary>
    private (List<RecordBatch> Batches, long TailStart, List<TailRowFacts> Facts) TakeTail(long aboveLsn, long upToLsn)
    {
        lock (_tailGate)
        {
            var batches = new List<RecordBatch>();
            var facts = new List<TailRowFacts>();
            foreach (var chunk in _tail)
            {
                if (chunk.Parts[^1].Lsn <= aboveLsn || chunk.Parts[0].Lsn > upToLsn)
                    continue;
                if (chunk.Parts[0].Lsn > aboveLsn && chunk.Parts[^1].Lsn <= upToLsn)
                {
                    batches.Add(chunk.Batch);
                    facts.Add(chunk.Parts.Count == 1 ? chunk.Parts[0].Facts : TailRowFacts.Combine(chunk.Parts.Select(p => p.Facts)));
                    continue;
                }
                // Parts are contiguous rows in LSN order: the ones in range are one slice.
                int from = -1, to = 0;
                var taken = new List<TailRowFacts>();
                foreach (var part in chunk.Parts)
                {
                    if (part.Lsn <= aboveLsn || part.Lsn > upToLsn)
                        continue;
                    if (from < 0)
                        from = part.Offset;
                    to = part.Offset + part.Rows;
                    taken.Add(part.Facts);
                }
                if (from >= 0 && to > from)
                {
                    batches.Add(chunk.Batch.Slice(from, to - from));
                    facts.Add(TailRowFacts.Combine(taken));
                }
            }
            return (batches, _tail.Count == 0 ? long.MaxValue : _tail[0].Parts[0].Lsn, facts);
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
        TailChunk[] chunks;
        lock (_tailGate)
            chunks = _tail.ToArray();
        if (chunks.Length == 0)
            return;
        var items = new List<(ValidatedBatch Batch, long Lsn)>();
        long rows = 0, bytes = 0;
        foreach (var chunk in chunks)
        {
            foreach (var part in chunk.Parts)
            {
                var slice = part.Offset == 0 && part.Rows == chunk.Batch.Length ? chunk.Batch : chunk.Batch.Slice(part.Offset, part.Rows);
                items.Add((new ValidatedBatch(slice, Schema), part.Lsn));
                rows += part.Rows;
                bytes += part.Bytes;
            }
        }
        try
        {
            AppendToDuckDb(items, rows);
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
            _tail.RemoveRange(0, chunks.Length);
            (_smallChunks, _smallRows) = (0, 0);
            Interlocked.Add(ref _tailRows, -rows);
            Interlocked.Add(ref _tailBytes, -bytes);
        }
    }

    /// <summary>Under the append lock: drops the tail's rows with LSN at or below <paramref name="lsn"/> (flushed). Returns the rows dropped.</summary>
    private long DropTailUpTo(long lsn)
    {
        lock (_tailGate)
        {
            long rows = 0, bytes = 0;
            var whole = 0;
            while (whole < _tail.Count && _tail[whole].Parts[^1].Lsn <= lsn)
            {
                foreach (var part in _tail[whole].Parts)
                {
                    rows += part.Rows;
                    bytes += part.Bytes;
                }
                whole++;
            }
            _tail.RemoveRange(0, whole);
            if (_tail.Count > 0 && _tail[0].Parts[0].Lsn <= lsn)
            {
                // A gathered chunk straddling the LSN keeps the rows above it, as a slice.
                var chunk = _tail[0];
                var kept = chunk.Parts.Where(p => p.Lsn > lsn).ToList();
                foreach (var part in chunk.Parts.Where(p => p.Lsn <= lsn))
                {
                    rows += part.Rows;
                    bytes += part.Bytes;
                }
                var from = kept[0].Offset;
                _tail[0] = new TailChunk(chunk.Batch.Slice(from, chunk.Batch.Length - from), kept.Select(p => p with { Offset = p.Offset - from }).ToList());
            }
            // The small chunks are the trailing ones: dropping from the front leaves at most what is left.
            _smallChunks = Math.Min(_smallChunks, _tail.Count);
            _smallRows = 0;
            for (var i = _tail.Count - _smallChunks; i < _tail.Count; i++)
                _smallRows += _tail[i].Batch.Length;
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

    /// <summary>Rows of the tail in one pinned batch: one or more logged batches (parts), contiguous and in LSN order.</summary>
    private sealed record TailChunk(RecordBatch Batch, IReadOnlyList<TailPart> Parts);

    /// <summary>A logged batch inside a chunk: its LSN, rows, memory estimate and what the export needs to know of its rows.</summary>
    private readonly record struct TailPart(long Lsn, int Offset, int Rows, long Bytes, TailRowFacts Facts);
}
