using Apache.Arrow;

namespace TimeFusion.DuckDb;

/// <summary>
/// A fixed set of Arrow batches registered with <see cref="ArrowScanFunction"/>: readable in SQL as <see cref="Sql"/>
/// until disposed. A query bound before disposal keeps reading it to its end.
/// </summary>
public sealed class ArrowScanSource : IDisposable
{
    private int _disposed;

    internal ArrowScanSource(ArrowScanFunction function, long id, IReadOnlyList<string> names, IReadOnlyList<LogicalTypeHandle> types, IReadOnlyList<RecordBatch> batches)
    {
        Function = function;
        Id = id;
        Names = names;
        Types = types;
        Batches = batches;
        long rows = 0;
        foreach (var b in batches)
            rows += b.Length;
        Rows = rows;
        TypeIds = types.Select(DuckDbApi.duckdb_get_type_id).ToArray();
    }

    /// <summary>The registration id (the function's argument).</summary>
    public long Id { get; }

    /// <summary>The table expression that reads the batches: <c>tf_arrow_scan(id)</c>.</summary>
    public string Sql => $"{ArrowScanFunction.Name}({Id})";

    /// <summary>Rows over all batches.</summary>
    public long Rows { get; }

    /// <summary>DuckDB threads that may scan at once (background work such as a flush's export takes one, leaving the
    /// other cores to acknowledgements and queries). Default: the processor count.</summary>
    public int MaxThreads { get; init; } = Environment.ProcessorCount;

    internal ArrowScanFunction Function { get; }

    internal IReadOnlyList<string> Names { get; }

    internal IReadOnlyList<LogicalTypeHandle> Types { get; }

    internal IReadOnlyList<RecordBatch> Batches { get; }

    /// <summary>The <c>duckdb_type</c> of each column: a converted vector must have it before the output references it.</summary>
    internal int[] TypeIds { get; }

    /// <summary>Unregisters: queries not yet bound can no longer name it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            ArrowScanFunction.Unregister(Id);
    }
}
