namespace TimeFusion.Tables;

/// <summary>
/// Identifies one (project, table) pair: the unit that owns a WAL, a buffer table and a Delta table.
/// Names are kept whole (any length, any Unicode); mapping them to storage paths is the job of
/// <see cref="TimeFusion.Storage.StoragePathNames"/>, never of callers.
/// </summary>
public readonly record struct TableId
{
    /// <summary>Creates a table id; both parts must be non-empty.</summary>
    public TableId(string project, string table)
    {
        ArgumentException.ThrowIfNullOrEmpty(project);
        ArgumentException.ThrowIfNullOrEmpty(table);
        Project = project;
        Table = table;
    }

    /// <summary>The project (tenant) id.</summary>
    public string Project { get; }

    /// <summary>The table name, e.g. <c>otel_logs_and_spans</c>.</summary>
    public string Table { get; }

    /// <summary>The grain key form, <c>"{project}/{table}"</c>. Display only: a project may contain '/'.</summary>
    public override string ToString() => $"{Project}/{Table}";
}
