using Apache.Arrow;

namespace TimeFusion.DuckDb;

/// <summary>
/// A whole statement result as Arrow, from <see cref="DuckDbStatementRunner"/>: the schema (also when there are no
/// rows) and the batches in order, each owning its native memory. The query layer wraps it in its own result type.
/// </summary>
public sealed class ArrowBatches(Schema schema, IReadOnlyList<RecordBatch> batches)
{
    /// <summary>The result's schema.</summary>
    public Schema Schema { get; } = schema ?? throw new ArgumentNullException(nameof(schema));

    /// <summary>The record batches, in result order.</summary>
    public IReadOnlyList<RecordBatch> Batches { get; } = batches ?? throw new ArgumentNullException(nameof(batches));
}
