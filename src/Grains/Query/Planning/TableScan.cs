using TimeFusion.Tables;

namespace TimeFusion.Query.Planning;

/// <summary>
/// One reference to a catalog table in a SELECT, resolved: the table, the projects (grains) it reaches, the time
/// range it can read, and — for <see cref="PlanKind.RowShipping"/> — the SQL each of those grains runs.
/// </summary>
public sealed class TableScan
{
    internal TableScan(int index, TableSchema table, string qualifier, IReadOnlyList<string> projects, ProjectSource projectSource,
        TimeRange time, string? pushedPredicate, IReadOnlyList<string> columns, string? scanSql, long? newestFirstLimit)
    {
        Index = index;
        Table = table;
        Qualifier = qualifier;
        Projects = projects;
        ProjectSource = projectSource;
        Time = time;
        PushedPredicate = pushedPredicate;
        Columns = columns;
        ScanSql = scanSql;
        NewestFirstLimit = newestFirstLimit;
    }

    /// <summary>Position of the reference in the statement (0-based, in parse order).</summary>
    public int Index { get; }

    /// <summary>
    /// The relation name the gateway gives the union of this reference's grain results in
    /// <see cref="PlanKind.RowShipping"/> plans (<c>__scan_0</c>, <c>__scan_1</c>, …).
    /// </summary>
    public string RelationName => "__scan_" + Index;

    /// <summary>The table.</summary>
    public TableSchema Table { get; }

    /// <summary>The name the statement uses for the reference (its alias, else the table name as written).</summary>
    public string Qualifier { get; }

    /// <summary>The projects (one grain each) this reference reads, sorted ordinally. May be empty (contradictory predicates).</summary>
    public IReadOnlyList<string> Projects { get; }

    /// <summary>Where <see cref="Projects"/> came from.</summary>
    public ProjectSource ProjectSource { get; }

    /// <summary>The reachable <c>timestamp</c> range, for partition and file pruning.</summary>
    public TimeRange Time { get; }

    /// <summary>
    /// <see cref="PlanKind.RowShipping"/>: the WHERE conjuncts that apply to this reference alone, as SQL over the
    /// table's columns (null when none). Null in other plans (their grain SQL carries the whole WHERE clause).
    /// </summary>
    public string? PushedPredicate { get; }

    /// <summary>The table's columns the statement may use through this reference, in schema order.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>
    /// What each grain runs for this reference in a <see cref="PlanKind.RowShipping"/> plan: <c>SELECT &lt;columns&gt;
    /// FROM "&lt;table&gt;" WHERE &lt;pushed predicate&gt;</c> (with <c>ORDER BY … LIMIT</c> when the query's limit can
    /// be pushed). The table name stands for the grain's snapshot of its rows (buffer + Delta files). Null in other plans.
    /// </summary>
    public string? ScanSql { get; }

    /// <summary>
    /// Set when <see cref="ScanSql"/> orders by <c>timestamp DESC</c> and keeps at most this many rows: the grain may
    /// read files newest first and stop once no remaining file can hold a qualifying row.
    /// </summary>
    public long? NewestFirstLimit { get; }

    /// <summary>The grains this reference reads.</summary>
    public IEnumerable<TableId> Grains => Projects.Select(p => new TableId(p, Table.Name));
}
