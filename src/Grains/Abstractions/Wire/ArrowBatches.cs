using Apache.Arrow;

namespace TimeFusion.Wire;

/// <summary>
/// A query result or an insert payload as it crosses silos and clients: an Arrow schema and its batches.
/// Serialized by Orleans as one Arrow IPC stream (<see cref="ArrowBatchesConverter"/>), so every Arrow type travels.
/// </summary>
public sealed class ArrowBatches
{
    /// <summary>Creates a result; every batch must have <paramref name="schema"/>'s columns.</summary>
    public ArrowBatches(Schema schema, IReadOnlyList<RecordBatch> batches)
    {
        Schema = schema;
        Batches = batches;
        long rows = 0;
        foreach (var b in batches) rows += b.Length;
        RowCount = rows;
    }

    /// <summary>The result schema (present even when there are no rows).</summary>
    public Schema Schema { get; }

    /// <summary>The batches, in order.</summary>
    public IReadOnlyList<RecordBatch> Batches { get; }

    /// <summary>Total rows.</summary>
    public long RowCount { get; }
}
