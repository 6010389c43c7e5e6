using TimeFusion.Tables;

namespace TimeFusion.Grains;

/// <summary>The persisted state of the catalog.</summary>
[GenerateSerializer]
public sealed class CatalogState
{
    /// <summary>User tables by lower-case name.</summary>
    [Id(0)] public Dictionary<string, TableDefinition> Tables { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Projects with rows, per lower-case table name.</summary>
    [Id(1)] public Dictionary<string, SortedSet<string>> Projects { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Retentions: by lower-case table name (table-wide) and by <c>"{table}/{project}"</c> (a project's override).</summary>
    [Id(2)] public Dictionary<string, TimeSpan> Retention { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Holds table schemas and the projects of each table, persisted through Orleans grain storage named
/// <c>"catalog"</c> (a local file in single-node mode, Azure Table storage in cluster mode).
/// </summary>
public sealed class CatalogGrain([PersistentState("catalog", "catalog")] IPersistentState<CatalogState> state) : Grain, ICatalogGrain
{
    // Always present, never stored: the OpenTelemetry shapes the OTLP receiver writes.
    private static readonly TableDefinition[] Builtins =
    [
        new(OtelLogsAndSpans.TableName, OtelLogsAndSpans.Schema.Columns),
        new(OtelMetrics.TableName, OtelMetrics.Schema.Columns),
    ];

    /// <inheritdoc />
    public Task<IReadOnlyList<TableDefinition>> ListTablesAsync() =>
        Task.FromResult<IReadOnlyList<TableDefinition>>([.. Builtins, .. state.State.Tables.Values.OrderBy(t => t.Name, StringComparer.Ordinal)]);

    /// <inheritdoc />
    public async Task<TableDefinition> CreateTableAsync(TableDefinition table)
    {
        var name = table.Name.ToLowerInvariant();
        if (Builtins.Any(b => b.Name == name)) throw new SchemaException($"table '{table.Name}' is built in");
        if (name.Contains('/')) throw new SchemaException($"table name '{table.Name}' may not contain '/'");
        // Normalizes and checks the columns (timestamp/date/project_id added, duplicates refused).
        var schema = TableSchema.Create(name, table.Columns);
        var normalized = new TableDefinition(name, schema.Columns);
        if (state.State.Tables.TryGetValue(name, out var existing))
        {
            if (existing.Columns.SequenceEqual(normalized.Columns)) return existing;
            throw new SchemaException($"table '{name}' already exists with different columns");
        }
        state.State.Tables[name] = normalized;
        await state.WriteStateAsync();
        return normalized;
    }

    /// <inheritdoc />
    public async Task<TableDefinition?> AddColumnAsync(string table, ColumnDefinition column)
    {
        var name = table.ToLowerInvariant();
        if (Builtins.Any(b => b.Name == name)) throw new SchemaException($"table '{name}' is built in and cannot be altered");
        if (!state.State.Tables.TryGetValue(name, out var existing)) throw new SchemaException($"table '{name}' does not exist");
        if (!column.Nullable) throw new SchemaException($"column '{column.Name}': an added column must be nullable");
        if (existing.Columns.Any(c => c.Name == column.Name)) return null;
        // Appended last: the WAL, the buffer and Delta files written before it read it as NULL by name.
        var altered = new TableDefinition(name, [.. existing.Columns, column]);
        state.State.Tables[name] = altered;
        await state.WriteStateAsync();
        return altered;
    }

    /// <inheritdoc />
    public async Task RegisterProjectAsync(string table, string project)
    {
        var key = table.ToLowerInvariant();
        if (!state.State.Projects.TryGetValue(key, out var projects))
            state.State.Projects[key] = projects = new SortedSet<string>(StringComparer.Ordinal);
        if (projects.Add(project)) await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ProjectsOfAsync(string table) =>
        Task.FromResult<IReadOnlyList<string>>(state.State.Projects.TryGetValue(table.ToLowerInvariant(), out var p) ? [.. p] : []);

    /// <inheritdoc />
    public async Task<bool> DropTableAsync(string table)
    {
        var name = table.ToLowerInvariant();
        if (Builtins.Any(b => b.Name == name)) throw new SchemaException($"table '{name}' is built in and cannot be dropped");
        if (!state.State.Tables.Remove(name)) return false;
        state.State.Projects.Remove(name);
        foreach (var key in state.State.Retention?.Keys.Where(k => k == name || k.StartsWith(name + "/", StringComparison.Ordinal)).ToList() ?? [])
            state.State.Retention!.Remove(key);
        await state.WriteStateAsync();
        return true;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<CatalogTable>> ListTablesWithProjectsAsync()
    {
        var tables = await ListTablesAsync();
        var result = new CatalogTable[tables.Count];
        for (var i = 0; i < tables.Count; i++)
            result[i] = new CatalogTable(tables[i], state.State.Projects.TryGetValue(tables[i].Name, out var p) ? [.. p] : []);
        return result;
    }

    /// <inheritdoc />
    public async Task SetRetentionAsync(string table, string? project, TimeSpan? retention)
    {
        var name = table.ToLowerInvariant();
        if (Builtins.All(b => b.Name != name) && !state.State.Tables.ContainsKey(name)) throw new SchemaException($"table '{table}' does not exist");
        if (retention is { } r && r <= TimeSpan.Zero) throw new SchemaException("retention must be positive");
        var key = project is null ? name : name + "/" + project;
        state.State.Retention ??= new(StringComparer.Ordinal);
        if (retention is { } value) state.State.Retention[key] = value;
        else if (!state.State.Retention.Remove(key)) return;
        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public Task<TimeSpan?> RetentionOfAsync(string table, string project)
    {
        var name = table.ToLowerInvariant();
        var all = state.State.Retention;
        TimeSpan? result = all is null ? null
            : all.TryGetValue(name + "/" + project, out var own) ? own
            : all.TryGetValue(name, out var tableWide) ? tableWide
            : null;
        return Task.FromResult(result);
    }
}
