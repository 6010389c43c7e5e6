using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Tables;

/// <summary>
/// The schema of a TimeFusion table: its columns plus the two columns every table has —
/// <c>timestamp</c> (UTC microseconds, NOT NULL, the sort key) and <c>date</c> (the Delta partition
/// column, the UTC date of <c>timestamp</c>) — and <c>project_id</c>, the tenant.
/// One instance describes the Arrow, Delta and DuckDB shapes of the table through <see cref="ColumnTypeMapping"/>.
/// </summary>
public sealed class TableSchema
{
    /// <summary>Name of the timestamp column every table has.</summary>
    public const string TimestampColumn = "timestamp";

    /// <summary>Name of the date partition column every table has.</summary>
    public const string DateColumn = "date";

    /// <summary>Name of the project column every table has.</summary>
    public const string ProjectColumn = "project_id";

    private readonly Dictionary<string, int> _ordinals;
    private Schema? _arrow;

    private TableSchema(string name, IReadOnlyList<ColumnDefinition> columns)
    {
        Name = name;
        Columns = columns;
        _ordinals = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            if (!_ordinals.TryAdd(columns[i].Name, i))
                throw new SchemaException($"table '{name}': column '{columns[i].Name}' is defined twice");
        }
    }

    /// <summary>The table name.</summary>
    public string Name { get; }

    /// <summary>The columns, in storage order.</summary>
    public IReadOnlyList<ColumnDefinition> Columns { get; }

    /// <summary>
    /// Builds a schema from user-given columns, adding <c>timestamp</c>, <c>date</c> and <c>project_id</c>
    /// where missing and checking that, where given, they have the required types.
    /// </summary>
    /// <exception cref="SchemaException">Bad name, duplicate column, or a required column with the wrong type.</exception>
    public static TableSchema Create(string name, IEnumerable<ColumnDefinition> columns)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var list = columns.ToList();
        foreach (var c in list)
        {
            if (string.IsNullOrEmpty(c.Name))
                throw new SchemaException($"table '{name}': a column has an empty name");
        }

        Require(list, name, TimestampColumn, ColumnType.TimestampUs, nullable: false, insertAt: 0);
        Require(list, name, DateColumn, ColumnType.Date, nullable: false, insertAt: 0);
        Require(list, name, ProjectColumn, ColumnType.Utf8, nullable: false, insertAt: list.Count);
        return new TableSchema(name, list);
    }

    private static void Require(List<ColumnDefinition> list, string table, string column, ColumnType type, bool nullable, int insertAt)
    {
        var existing = list.FindIndex(c => c.Name == column);
        if (existing < 0)
        {
            list.Insert(Math.Min(insertAt, list.Count), new ColumnDefinition(column, type, nullable));
            return;
        }
        var c = list[existing];
        if (c.Type != type)
            throw new SchemaException($"table '{table}': column '{column}' must be {type}, not {c.Type}");
        if (c.Nullable && !nullable)
            list[existing] = c with { Nullable = false };
    }

    /// <summary>The ordinal of a column, or -1.</summary>
    public int IndexOf(string column) => _ordinals.TryGetValue(column, out var i) ? i : -1;

    /// <summary>The column with this name, or null.</summary>
    public ColumnDefinition? Find(string column) => _ordinals.TryGetValue(column, out var i) ? Columns[i] : null;

    /// <summary>The canonical Arrow schema of the table (what the buffer and the WAL hold).</summary>
    public Schema ToArrowSchema() => _arrow ??= new Schema(
        Columns.Select(c => new Field(c.Name, ColumnTypeMapping.ToArrow(c.Type), c.Nullable)), metadata: null);

    /// <summary>The Delta Lake <c>schemaString</c> (a JSON struct type).</summary>
    public string ToDeltaSchemaString() => ColumnTypeMapping.ToDeltaSchemaString(Columns);

    /// <summary>The DuckDB column list for <c>CREATE TABLE</c>, e.g. <c>"timestamp" TIMESTAMPTZ NOT NULL, …</c>.</summary>
    public string ToDuckDbColumns() => string.Join(", ",
        Columns.Select(c => $"{SqlNames.Quote(c.Name)} {ColumnTypeMapping.ToDuckDb(c.Type)}{(c.Nullable ? "" : " NOT NULL")}"));
}
