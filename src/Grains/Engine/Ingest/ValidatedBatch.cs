using Apache.Arrow;
using TimeFusion.Tables;

namespace TimeFusion.Ingest;

/// <summary>
/// A record batch that passed validation once: its buffers, offsets, indices and (where checked) strings are
/// consistent (<see cref="Arrow.ArrowStructureValidator"/>) and, when <see cref="Table"/> is set, its columns are
/// that table's, in order, with accepted types and no nulls in NOT NULL columns. Only <see cref="BatchValidator"/>
/// creates one, so the stages that trust a batch — the WAL's insert entries, the buffer's append, DuckDB's Arrow
/// conversion — take this type and the compiler checks their precondition. The batch stays owned by the caller.
/// </summary>
public sealed class ValidatedBatch
{
    internal ValidatedBatch(RecordBatch batch, TableSchema? table, bool inPinnedBlock = false)
    {
        Batch = batch;
        Table = table;
        InPinnedBlock = inPinnedBlock;
    }

    /// <summary>
    /// Whether every buffer already lives, 8-byte aligned, on the pinned object heap in memory that nothing else writes
    /// or reuses (a replayed WAL entry or a batch Orleans received, in a block of its own, plus a small block for the
    /// columns the validator filled in: <see cref="InBlock"/>), so a stage that keeps the batch may keep it as it is
    /// instead of copying it (<see cref="ToPinned"/>).
    /// </summary>
    internal bool InPinnedBlock { get; }

    /// <summary>The validated batch.</summary>
    public RecordBatch Batch { get; }

    /// <summary>The table whose columns the batch was checked against; null for a relation checked against its own Arrow schema only.</summary>
    public TableSchema? Table { get; }

    /// <summary>Rows in the batch.</summary>
    public int Length => Batch.Length;

    /// <summary>
    /// The batch in memory that never moves and that the caller may keep: itself when it already is in a pinned block of
    /// its own (<see cref="InPinnedBlock"/>: a replayed entry, copied once from the read buffer), else <see cref="CopyPinned"/>.
    /// </summary>
    internal ValidatedBatch ToPinned() => InPinnedBlock ? this : CopyPinned();

    /// <summary>
    /// Marks the batch as living in pinned memory of its own when its buffers are slices of <paramref name="block"/> — a
    /// pinned array allocated for it alone and never written again (a replayed WAL entry, a batch Orleans received) — at
    /// 8-byte aligned offsets, and its data there is at least half the block (else keeping the whole block would hold more
    /// memory than a copy). Buffers elsewhere (columns the validator filled in: <c>project_id</c>, <c>date</c>) are copied
    /// into a small pinned block of their own. Otherwise returns the batch unchanged (a stage that keeps it copies it).
    /// </summary>
    internal ValidatedBatch InBlock(byte[] block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (InPinnedBlock) return this;
        long inside = 0, outside = 0;
        for (var i = 0; i < Batch.ColumnCount; i++)
        {
            if (!Measure(Batch.Column(i).Data, block, ref inside, ref outside)) return this;
        }
        if (inside * 2 < block.Length) return this;
        if (outside == 0) return new ValidatedBatch(Batch, Table, inPinnedBlock: true);
        var rest = GC.AllocateUninitializedArray<byte>(checked((int)outside), pinned: true);
        var offset = 0;
        var arrays = new IArrowArray[Batch.ColumnCount];
        for (var i = 0; i < arrays.Length; i++)
            arrays[i] = ArrowArrayFactory.BuildArray(CopyInto(Batch.Column(i).Data, rest, ref offset, keep: block));
        return new ValidatedBatch(new RecordBatch(Batch.Schema, arrays, Batch.Length), Table, inPinnedBlock: true);
    }

    /// <summary>Adds up the bytes in <paramref name="block"/> and (aligned) elsewhere; false for a misaligned slice of the block.</summary>
    private static bool Measure(ArrayData data, byte[] block, ref long inside, ref long outside)
    {
        foreach (var buffer in data.Buffers)
        {
            var memory = buffer.Memory;
            if (Shared(memory)) continue;
            if (!In(memory, block, out var aligned))
            {
                outside += (memory.Length + 7) & ~7L;
                continue;
            }
            if (!aligned) return false;
            inside += memory.Length;
        }
        foreach (var child in data.Children ?? [])
        {
            if (!Measure(child, block, ref inside, ref outside)) return false;
        }
        return data.Dictionary is null || Measure(data.Dictionary, block, ref inside, ref outside);
    }

    private static bool In(ReadOnlyMemory<byte> memory, byte[]? block, out bool aligned)
    {
        aligned = false;
        if (block is null || !System.Runtime.InteropServices.MemoryMarshal.TryGetArray(memory, out var segment) || !ReferenceEquals(segment.Array, block))
            return false;
        aligned = (segment.Offset & 7) == 0;
        return true;
    }

    /// <summary>
    /// The same rows in one block of memory of their own on the pinned object heap, for a stage that keeps the batch
    /// after its caller may have disposed or reused the original's buffers and lets native code read it in place (the
    /// buffer's tail, scanned by DuckDB: the block never moves). The bytes are identical, so the copy stays validated.
    /// The all-null columns' shared block of zeros is immutable and not copied. The copy is <see cref="InPinnedBlock"/>:
    /// a stage after the one that made it keeps it as it is (the tail's writers copy before the WAL write; the append
    /// under the tail's lock used to copy each 30-row INSERT a second time).
    /// </summary>
    public ValidatedBatch CopyPinned()
    {
        long total = 0;
        for (var i = 0; i < Batch.ColumnCount; i++)
            total += CopySize(Batch.Column(i).Data);
        var block = GC.AllocateUninitializedArray<byte>(checked((int)Math.Max(total, 1)), pinned: true);
        var offset = 0;
        var arrays = new IArrowArray[Batch.ColumnCount];
        for (var i = 0; i < arrays.Length; i++)
        {
            // A column with nothing to copy (one the batch left out: the shared zeros) is kept as it is, not rebuilt —
            // most of a wide table's columns under small INSERTs.
            var column = Batch.Column(i);
            arrays[i] = NothingToCopy(column.Data) ? column : ArrowArrayFactory.BuildArray(CopyInto(column.Data, block, ref offset, keep: null));
        }
        return new ValidatedBatch(new RecordBatch(Batch.Schema, arrays, Batch.Length), Table, inPinnedBlock: true);
    }

    private static bool Shared(ReadOnlyMemory<byte> memory) => memory.IsEmpty || NullColumns.IsSharedZeros(memory);

    private static bool NothingToCopy(ArrayData data)
    {
        foreach (var buffer in data.Buffers)
        {
            if (!Shared(buffer.Memory))
                return false;
        }
        foreach (var child in data.Children ?? [])
        {
            if (!NothingToCopy(child))
                return false;
        }
        return data.Dictionary is null || NothingToCopy(data.Dictionary);
    }

    // Each buffer 8-byte aligned, as Arrow's C interface readers expect of fixed-width data.
    private static long CopySize(ArrayData data)
    {
        long size = 0;
        foreach (var buffer in data.Buffers)
        {
            if (!Shared(buffer.Memory))
                size += (buffer.Length + 7) & ~7L;
        }
        foreach (var child in data.Children ?? [])
            size += CopySize(child);
        if (data.Dictionary is { } dictionary)
            size += CopySize(dictionary);
        return size;
    }

    // Copies every buffer into `block` from `offset` on, except the shared zeros and the slices of `keep` (kept as they are).
    private static ArrayData CopyInto(ArrayData data, byte[] block, ref int offset, byte[]? keep)
    {
        var buffers = new ArrowBuffer[data.Buffers.Length];
        for (var i = 0; i < buffers.Length; i++)
        {
            var memory = data.Buffers[i].Memory;
            if (Shared(memory) || In(memory, keep, out _))
            {
                buffers[i] = new ArrowBuffer(memory);
                continue;
            }
            memory.Span.CopyTo(block.AsSpan(offset));
            buffers[i] = new ArrowBuffer(block.AsMemory(offset, memory.Length));
            offset += (memory.Length + 7) & ~7;
        }
        ArrayData[]? children = null;
        if (data.Children is { } source)
        {
            children = new ArrayData[source.Length];
            for (var i = 0; i < children.Length; i++)
                children[i] = CopyInto(source[i], block, ref offset, keep);
        }
        var dictionary = data.Dictionary is null ? null : CopyInto(data.Dictionary, block, ref offset, keep);
        return new ArrayData(data.DataType, data.Length, data.NullCount, data.Offset, buffers, children, dictionary);
    }

    /// <summary>Whether the batch was checked against a table with exactly <paramref name="schema"/>'s columns.</summary>
    public bool Fits(TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (ReferenceEquals(Table, schema))
            return true;
        if (Table is null || Table.Columns.Count != schema.Columns.Count)
            return false;
        for (var i = 0; i < schema.Columns.Count; i++)
        {
            var (a, b) = (Table.Columns[i], schema.Columns[i]);
            if (!string.Equals(a.Name, b.Name, StringComparison.Ordinal) || a.Type != b.Type || a.Nullable != b.Nullable)
                return false;
        }
        return true;
    }
}
