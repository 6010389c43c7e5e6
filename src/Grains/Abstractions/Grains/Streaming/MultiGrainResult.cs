using Apache.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Grains.Streaming;

/// <summary>
/// The result of a statement several table grains stream (<see cref="QueryStart.Grains"/>), combined at the door
/// without holding it: concatenated (a grain is started while the one before is read, so at most two run), or —
/// sorted — a k-way merge of every grain's ordered stream by its last column (a sort key, dropped here).
/// What it holds is about one batch per grain plus the batch being built. OFFSET and LIMIT are applied here; reaching
/// the limit ends every grain's statement at once.
/// </summary>
/// <remarks>
/// A k-way merge must open every grain's sorted stream before its first row: the smallest row may come from any grain.
/// What that costs here is bounded twice: the gateway asks the grains for batches small enough that one per grain plus
/// the one each reader fetches ahead fit in half of <see cref="StreamMerge.MemoryBytes"/>
/// (<see cref="GrainQuery.StreamBatchBytes"/>), and the batches the cursors hold are counted against it, so a grain
/// whose single rows are too large for that fails the statement with 53200 instead of growing the door. Each grain's
/// sort itself is DuckDB's working memory, bounded by its database's <c>memory_limit</c>.
/// </remarks>
internal sealed class MultiGrainResult : IAsyncDisposable
{
    /// <summary>Rows a merged batch collects before it is handed on.</summary>
    internal const int MergedBatchRows = 8192;

    private readonly IGrainFactory _grains;
    private readonly IReadOnlyList<string> _keys;
    private readonly GrainQuery _query;
    private readonly StreamMerge _merge;
    private readonly CancellationToken _cancellationToken;
    private readonly Task<GrainBatchReader>?[] _opening;
    private readonly int _columns;
    private long _held;
    private int _disposed;

    private MultiGrainResult(IGrainFactory grains, IReadOnlyList<string> keys, GrainQuery query, StreamMerge merge,
        Task<GrainBatchReader>?[] opening, Schema grainSchema, CancellationToken cancellationToken)
    {
        _grains = grains;
        _keys = keys;
        _query = query;
        _merge = merge;
        _opening = opening;
        _cancellationToken = cancellationToken;
        _columns = merge.Sorted ? grainSchema.FieldsList.Count - 1 : grainSchema.FieldsList.Count;
        Schema = merge.Sorted ? new Schema(grainSchema.FieldsList.Take(_columns), grainSchema.Metadata) : grainSchema;
    }

    /// <summary>The result's schema (without the sort key).</summary>
    public Schema Schema { get; }

    /// <summary>
    /// Starts the statement on the first grain (sorted: on every grain) and waits for the schema.
    /// </summary>
    public static async Task<MultiGrainResult> OpenAsync(IGrainFactory grains, IReadOnlyList<string> keys, GrainQuery query, StreamMerge merge,
        CancellationToken cancellationToken)
    {
        if (keys.Count == 0) throw new ArgumentException("a multi-grain stream needs at least one grain", nameof(keys));
        var opening = new Task<GrainBatchReader>?[keys.Count];
        var open = merge.Sorted ? keys.Count : 1;
        for (var i = 0; i < open; i++) opening[i] = GrainBatchReader.OpenAsync(grains, keys[i], query, cancellationToken);
        try
        {
            var first = await opening[0]!;
            if (merge.Sorted)
            {
                await Task.WhenAll(opening!);
                // create_sort_key answers a BIGINT when the key fits in 8 bytes (compared as signed), else a BLOB (bytewise).
                var key = first.Schema.FieldsList.Count - 1;
                if (key < 0 || first.Schema.FieldsList[key].DataType is not (Apache.Arrow.Types.BinaryType or Apache.Arrow.Types.Int64Type))
                    throw new InvalidOperationException("a merged stream's last column must be a sort key (BLOB or BIGINT)");
            }
            return new MultiGrainResult(grains, keys, query, merge, opening, first.Schema, cancellationToken);
        }
        catch
        {
            await DisposeAllAsync(opening);
            throw;
        }
    }

    /// <summary>The batches in order (single use; each owned by the reader).</summary>
    public async IAsyncEnumerable<RecordBatch> ReadAllAsync()
    {
        var skip = _merge.Offset;
        var left = _merge.Limit ?? long.MaxValue;
        if (left == 0) yield break;
        await foreach (var batch in (_merge.Sorted ? MergedAsync() : ConcatenatedAsync()).WithCancellation(_cancellationToken))
        {
            var start = (int)Math.Min(skip, batch.Length);
            skip -= start;
            var length = (int)Math.Min(left, batch.Length - start);
            if (length <= 0) continue;
            left -= length;
            yield return start == 0 && length == batch.Length ? batch : Copy([(batch, start, length)]);
            if (left == 0)
            {
                // The limit is reached: every grain's statement ends now, not when the reader lets go.
                await DisposeAsync();
                yield break;
            }
        }
    }

    private async IAsyncEnumerable<RecordBatch> ConcatenatedAsync()
    {
        for (var i = 0; i < _keys.Count; i++)
        {
            _opening[i] ??= GrainBatchReader.OpenAsync(_grains, _keys[i], _query, _cancellationToken);
            var reader = await _opening[i]!;
            // The next grain starts while this one is read (its first batch is ready when this one ends).
            if (i + 1 < _keys.Count)
                _opening[i + 1] ??= GrainBatchReader.OpenAsync(_grains, _keys[i + 1], _query, _cancellationToken);
            while (await reader.NextAsync() is { } batch)
                yield return batch;
            await reader.DisposeAsync();
        }
    }

    /// <summary>Counts a batch a cursor now holds (and gives back the one it let go) against the statement's limit.</summary>
    private void Hold(long taken, long released)
    {
        _held += taken - released;
        if (_merge.MemoryBytes > 0 && _held > _merge.MemoryBytes)
            throw new TimeFusionException(SqlState.OutOfMemory,
                $"out of memory: merging the sorted results of {_keys.Count} table grains would hold more than {_merge.MemoryBytes} bytes at once "
                + "(a batch of each); raise TimeFusion:Execution:StatementMemoryBytes or narrow the statement");
    }

    /// <summary>One grain's position in the merge: its current batch, row and sort keys (BIGINT or bytes).</summary>
    private sealed class Cursor(GrainBatchReader reader, int key, MultiGrainResult owner)
    {
        private long _heldBytes;
        private BinaryArray? _bytes;
        private Int64Array? _longs;

        public GrainBatchReader Reader { get; } = reader;
        public RecordBatch Batch { get; private set; } = null!;
        public int Row { get; set; }

        /// <summary>Orders this cursor's row <paramref name="row"/> against <paramref name="other"/>'s row <paramref name="otherRow"/>.</summary>
        public int Compare(int row, Cursor other, int otherRow) => _longs is { } longs
            ? longs.Values[row].CompareTo(other._longs!.Values[otherRow])
            : _bytes!.GetBytes(row).SequenceCompareTo(other._bytes!.GetBytes(otherRow));

        /// <summary>Moves to the grain's next batch; false at its end.</summary>
        public async ValueTask<bool> AdvanceAsync()
        {
            if (await Reader.NextAsync() is not { } batch)
            {
                owner.Hold(0, _heldBytes);
                _heldBytes = 0;
                return false;
            }
            var bytes = ArrowIpc.BytesOf(batch);
            owner.Hold(bytes, _heldBytes);
            _heldBytes = bytes;
            Batch = batch;
            _longs = batch.Column(key) as Int64Array;
            _bytes = batch.Column(key) as BinaryArray;
            if (_longs is null && _bytes is null) throw new InvalidOperationException("a merged stream's sort key is neither BIGINT nor BLOB");
            Row = 0;
            return true;
        }
    }

    private sealed class CursorOrder : IComparer<Cursor>
    {
        public static readonly CursorOrder Instance = new();

        public int Compare(Cursor? x, Cursor? y) => x!.Compare(x.Row, y!, y!.Row);
    }

    private async IAsyncEnumerable<RecordBatch> MergedAsync()
    {
        var heap = new PriorityQueue<Cursor, Cursor>(CursorOrder.Instance);
        foreach (var opening in _opening)
        {
            var cursor = new Cursor(await opening!, _columns, this);
            if (await cursor.AdvanceAsync()) heap.Enqueue(cursor, cursor);
        }
        var pending = new List<(RecordBatch Batch, int Start, int Length)>();
        var pendingRows = 0;
        while (heap.TryDequeue(out var cursor, out _))
        {
            // The run of this grain's rows that sort no later than every other grain's next row goes out at once.
            var end = cursor.Batch.Length;
            if (heap.TryPeek(out var next, out _))
            {
                end = cursor.Row + 1;
                while (end < cursor.Batch.Length && cursor.Compare(end, next, next.Row) <= 0) end++;
            }
            if (cursor.Row == 0 && end == cursor.Batch.Length && pendingRows == 0)
            {
                yield return Project(cursor.Batch); // a whole batch in order: no copy
            }
            else
            {
                pending.Add((cursor.Batch, cursor.Row, end - cursor.Row));
                pendingRows += end - cursor.Row;
            }
            cursor.Row = end;
            if (cursor.Row < cursor.Batch.Length || await cursor.AdvanceAsync())
                heap.Enqueue(cursor, cursor);
            else
                await cursor.Reader.DisposeAsync();
            if (pendingRows >= MergedBatchRows || (heap.Count == 0 && pendingRows > 0))
            {
                yield return Copy(pending);
                pending.Clear();
                pendingRows = 0;
            }
        }
    }

    /// <summary>The result's columns of a grain's batch (the sort key dropped).</summary>
    private RecordBatch Project(RecordBatch batch) => batch.ColumnCount == _columns
        ? batch
        : new RecordBatch(Schema, Enumerable.Range(0, _columns).Select(batch.Column), batch.Length);

    /// <summary>The rows of the given ranges, in order, copied into one batch of the result's columns.</summary>
    private RecordBatch Copy(IReadOnlyList<(RecordBatch Batch, int Start, int Length)> ranges)
    {
        var length = ranges.Sum(r => r.Length);
        var arrays = new IArrowArray[_columns];
        for (var c = 0; c < _columns; c++)
        {
            var column = c;
            // Managed memory: the door does not dispose every batch, and native buffers would wait for finalizers.
            arrays[c] = ManagedArrowMemory.Concatenate(ranges.Select(r => ArrowArrayFactory.Slice(r.Batch.Column(column), r.Start, r.Length)).ToList());
        }
        return new RecordBatch(Schema, arrays, length);
    }

    /// <summary>Ends every grain's statement that is still running.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await DisposeAllAsync(_opening);
    }

    private static async Task DisposeAllAsync(Task<GrainBatchReader>?[] opening)
    {
        foreach (var task in opening)
        {
            if (task is null) continue;
            try
            {
                await (await task).DisposeAsync();
            }
            catch (Exception)
            {
                // It failed to open: nothing of it runs.
            }
        }
    }
}
