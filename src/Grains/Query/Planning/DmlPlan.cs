using TimeFusion.Tables;

namespace TimeFusion.Query.Planning;

/// <summary>UPDATE or DELETE.</summary>
public enum DmlKind
{
    /// <summary>UPDATE … SET … [WHERE …].</summary>
    Update,
    /// <summary>DELETE FROM … [WHERE …].</summary>
    Delete,
}

/// <summary>One <c>column = expression</c> of an UPDATE.</summary>
/// <param name="Column">The column (schema spelling).</param>
/// <param name="Sql">The expression, as DuckDB SQL over the table's unqualified columns.</param>
public sealed record DmlAssignment(string Column, string Sql);

/// <summary>
/// An UPDATE or DELETE, cut into parts each grain applies to its own rows (buffer and Delta files, DESIGN.md §5).
/// The predicate never leaves the grain's project: the grain applies it to its rows only. All SQL is DuckDB SQL
/// over the table's unqualified column names, with clock reads replaced by <see cref="Now"/> so that replaying the
/// statement from the WAL changes the same rows.
/// </summary>
public sealed class DmlPlan
{
    internal DmlPlan(DmlKind kind, TableSchema table, string? predicate, IReadOnlyList<DmlAssignment> assignments,
        IReadOnlyList<string> projects, ProjectSource projectSource, TimeRange time, DateTimeOffset now)
    {
        Kind = kind;
        Table = table;
        Predicate = predicate;
        Assignments = assignments;
        Projects = projects;
        ProjectSource = projectSource;
        Time = time;
        Now = now;
    }

    /// <summary>UPDATE or DELETE.</summary>
    public DmlKind Kind { get; }

    /// <summary>The table.</summary>
    public TableSchema Table { get; }

    /// <summary>The WHERE condition (SQL text), or null for every row of each affected project.</summary>
    public string? Predicate { get; }

    /// <summary>The SET assignments (empty for DELETE).</summary>
    public IReadOnlyList<DmlAssignment> Assignments { get; }

    /// <summary>The projects (grains) the statement applies to, sorted ordinally; each was checked writable.</summary>
    public IReadOnlyList<string> Projects { get; }

    /// <summary>Where <see cref="Projects"/> came from.</summary>
    public ProjectSource ProjectSource { get; }

    /// <summary>The <c>timestamp</c> range the predicate can match: files outside it need no rewrite.</summary>
    public TimeRange Time { get; }

    /// <summary>The instant that stands for <c>now()</c> in <see cref="Predicate"/> and <see cref="Assignments"/>.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>The grains the statement applies to.</summary>
    public IEnumerable<TableId> Grains => Projects.Select(p => new TableId(p, Table.Name));
}

/// <summary>
/// An <c>INSERT … VALUES</c>. The executor evaluates <see cref="ValuesSql"/> with DuckDB (one row per VALUES row,
/// columns named <see cref="Columns"/>), fills columns not listed (e.g. <c>project_id</c> from the caller's default,
/// <c>date</c> from <c>timestamp</c>), validates the batch against the schema and routes rows by project.
/// </summary>
public sealed class InsertPlan
{
    internal InsertPlan(TableSchema table, IReadOnlyList<string> columns, string valuesSql, int rowCount,
        IReadOnlyList<string>? projects, string? defaultProject, Apache.Arrow.RecordBatch? literals = null)
    {
        Literals = literals;
        Table = table;
        Columns = columns;
        ValuesSql = valuesSql;
        RowCount = rowCount;
        Projects = projects;
        DefaultProject = defaultProject;
    }

    /// <summary>The table.</summary>
    public TableSchema Table { get; }

    /// <summary>The target columns (schema spelling), in VALUES order.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary><c>SELECT * FROM (VALUES …) AS __values("c1", "c2", …)</c>: the rows as a query.</summary>
    public string ValuesSql { get; }

    /// <summary>
    /// When every value was a plain literal: the rows as text columns, which <see cref="ValuesSql"/> reads as the relation
    /// <see cref="Statements.LiteralValuesReader.RelationName"/> and casts to the column types. Null: <see cref="ValuesSql"/>
    /// is self-contained.
    /// </summary>
    public Apache.Arrow.RecordBatch? Literals { get; }

    /// <summary>How many rows VALUES lists.</summary>
    public int RowCount { get; }

    /// <summary>
    /// The projects the rows go to when known at planning (every <c>project_id</c> value a string literal, or
    /// <c>project_id</c> not listed: the default project); each was checked writable. Null when some
    /// <c>project_id</c> value is an expression: the executor must check every evaluated value with
    /// <see cref="CallerScope.CanWrite"/>.
    /// </summary>
    public IReadOnlyList<string>? Projects { get; }

    /// <summary>The project for rows when <c>project_id</c> is not among <see cref="Columns"/>; null when it is.</summary>
    public string? DefaultProject { get; }
}
