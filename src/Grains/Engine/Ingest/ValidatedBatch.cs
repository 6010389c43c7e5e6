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
    internal ValidatedBatch(RecordBatch batch, TableSchema? table)
    {
        Batch = batch;
        Table = table;
    }

    /// <summary>The validated batch.</summary>
    public RecordBatch Batch { get; }

    /// <summary>The table whose columns the batch was checked against; null for a relation checked against its own Arrow schema only.</summary>
    public TableSchema? Table { get; }

    /// <summary>Rows in the batch.</summary>
    public int Length => Batch.Length;

    /// <summary>
    /// The same rows in managed memory of their own, for a stage that keeps the batch after its caller may have
    /// disposed or reused the original's buffers (the buffer's tail). The bytes are identical, so the copy stays
    /// validated. The all-null columns' shared block of zeros is immutable and not copied.
    /// </summary>
    public ValidatedBatch Copy()
    {
        var arrays = new IArrowArray[Batch.ColumnCount];
        for (var i = 0; i < arrays.Length; i++)
            arrays[i] = ArrowArrayFactory.BuildArray(Copy(Batch.Column(i).Data));
        return new ValidatedBatch(new RecordBatch(Batch.Schema, arrays, Batch.Length), Table);
    }

    private static ArrayData Copy(ArrayData data)
    {
        var buffers = new ArrowBuffer[data.Buffers.Length];
        for (var i = 0; i < buffers.Length; i++)
        {
            var memory = data.Buffers[i].Memory;
            buffers[i] = memory.IsEmpty || NullColumns.IsSharedZeros(memory) ? new ArrowBuffer(memory) : new ArrowBuffer(memory.ToArray());
        }
        return new ArrayData(data.DataType, data.Length, data.NullCount, data.Offset, buffers,
            data.Children?.Select(Copy), data.Dictionary is null ? null : Copy(data.Dictionary));
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
