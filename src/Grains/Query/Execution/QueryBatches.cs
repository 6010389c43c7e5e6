using Apache.Arrow;

namespace TimeFusion.Query.Execution;

/// <summary>
/// A query result as Arrow: its schema (also when there are no rows) and its record batches, in order. The batches
/// own native or pooled memory: dispose the result (or each batch) when done. Grains send it across silos as Arrow IPC
/// (<see cref="QueryBatchesIpc"/>).
/// </summary>
public sealed class QueryBatches : IDisposable
{
    /// <summary>Creates a result from a schema and batches that follow it.</summary>
    /// <exception cref="ArgumentException">A batch's column count differs from the schema's.</exception>
    public QueryBatches(Schema schema, IReadOnlyList<RecordBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(batches);
        long rows = 0;
        foreach (var b in batches)
        {
            if (b.ColumnCount != schema.FieldsList.Count)
                throw new ArgumentException($"a batch has {b.ColumnCount} columns but the schema has {schema.FieldsList.Count}", nameof(batches));
            rows += b.Length;
        }
        Schema = schema;
        Batches = batches;
        RowCount = rows;
    }

    /// <summary>The result's schema.</summary>
    public Schema Schema { get; }

    /// <summary>The record batches, in result order (empty when there are no rows).</summary>
    public IReadOnlyList<RecordBatch> Batches { get; }

    /// <summary>Rows over all batches.</summary>
    public long RowCount { get; }

    /// <summary>A result with no rows.</summary>
    public static QueryBatches Empty(Schema schema) => new(schema, []);

    /// <summary>Disposes every batch.</summary>
    public void Dispose()
    {
        foreach (var b in Batches)
            b.Dispose();
    }
}
