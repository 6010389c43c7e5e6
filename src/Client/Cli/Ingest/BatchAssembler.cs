using Apache.Arrow;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>
/// Turns a file's rows into Arrow batches in the target table's types, one per project: rows go to the project in their
/// <c>project_id</c> column when the file has one, else to the default project (null: the user's default). A row that
/// does not convert throws before anything of the batch is sent; the caller drops the whole batch.
/// </summary>
public sealed class BatchAssembler
{
    /// <summary>The column that routes rows.</summary>
    public const string ProjectColumn = "project_id";

    private readonly int[] _sourceColumns;
    private readonly int _projectColumn;
    private readonly string? _defaultProject;
    private readonly Dictionary<string, ColumnSink[]> _byProject = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _rowsByProject = new(StringComparer.Ordinal);

    /// <summary>Maps <paramref name="columns"/> (the file's) onto <paramref name="table"/> (the target's Arrow schema).</summary>
    /// <exception cref="FormatException">A file column the table does not have, or a NOT NULL column the file lacks.</exception>
    public BatchAssembler(IReadOnlyList<string> columns, Schema table, string tableName, string? defaultProject)
    {
        _defaultProject = defaultProject;
        _projectColumn = -1;
        var fields = new List<Field>();
        var sources = new List<int>();
        for (var i = 0; i < columns.Count; i++)
        {
            var name = columns[i];
            if (name == ProjectColumn)
            {
                _projectColumn = i;
                continue;
            }
            var index = table.GetFieldIndex(name);
            if (index < 0) throw new FormatException($"column '{name}' is not in table '{tableName}'");
            fields.Add(table.GetFieldByIndex(index));
            sources.Add(i);
        }
        // date is derived from timestamp by the server; project_id comes from the routing.
        var missing = table.FieldsList.Where(f => !f.IsNullable && f.Name is not ("date" or ProjectColumn) && !columns.Contains(f.Name)).Select(f => f.Name).ToList();
        if (missing.Count > 0) throw new FormatException($"has no column {string.Join(", ", missing.Select(m => $"'{m}'"))}, which table '{tableName}' requires (NOT NULL)");
        Schema = new Schema(fields, null);
        _sourceColumns = [.. sources];
    }

    /// <summary>The schema of the batches (the file's columns in the table's types, without <c>project_id</c>).</summary>
    public Schema Schema { get; }

    /// <summary>Rows added since the last <see cref="TakeBatches"/>.</summary>
    public int Rows { get; private set; }

    /// <summary>True when the file routes rows by a <c>project_id</c> column.</summary>
    public bool RoutesByColumn => _projectColumn >= 0;

    /// <summary>Adds the source's current row. The sink that failed is named by the <see cref="RowException"/>.</summary>
    public void Add(IRowSource source)
    {
        var project = _defaultProject ?? "";
        if (_projectColumn >= 0)
        {
            // Absent (a JSON line without the key): the default project; present but empty: an error, as in COPY.
            var value = source.Text(_projectColumn);
            if (value is { Length: 0 }) throw new RowException(ProjectColumn, "project_id is empty");
            project = value ?? project;
        }
        if (!_byProject.TryGetValue(project, out var sinks))
        {
            sinks = Schema.FieldsList.Select(ColumnSink.For).ToArray();
            _byProject.Add(project, sinks);
            _rowsByProject[project] = 0;
        }
        for (var c = 0; c < sinks.Length; c++)
        {
            try
            {
                source.Append(_sourceColumns[c], sinks[c]);
            }
            catch (FormatException e)
            {
                throw new RowException(sinks[c].Field.Name, e.Message);
            }
        }
        _rowsByProject[project]++;
        Rows++;
    }

    /// <summary>The batches built so far, by project ("" = the user's default project); starts empty again.</summary>
    public IReadOnlyList<(string Project, RecordBatch Batch)> TakeBatches()
    {
        var batches = _byProject.Select(p => (p.Key, new RecordBatch(Schema, p.Value.Select(s => s.Build()), _rowsByProject[p.Key]))).ToList();
        _byProject.Clear();
        _rowsByProject.Clear();
        Rows = 0;
        return batches;
    }

    /// <summary>Drops everything built since the last <see cref="TakeBatches"/>.</summary>
    public void Discard()
    {
        _byProject.Clear();
        _rowsByProject.Clear();
        Rows = 0;
    }
}

/// <summary>A value of the current row does not convert.</summary>
public sealed class RowException(string column, string message) : Exception(message)
{
    /// <summary>The column.</summary>
    public string Column { get; } = column;
}
