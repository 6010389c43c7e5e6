using TimeFusion.Tables;

namespace TimeFusion.Grains;

/// <summary>
/// The cluster's catalog (one grain, key 0): user table schemas and which projects have data in which table.
/// The built-in <c>otel_logs_and_spans</c> and <c>otel_metrics</c> are always present.
/// </summary>
public interface ICatalogGrain : IGrainWithIntegerKey
{
    /// <summary>All tables with their columns.</summary>
    Task<IReadOnlyList<TableDefinition>> ListTablesAsync();

    /// <summary>Creates a user table; an existing table with the same columns is fine, different columns are an error.</summary>
    Task<TableDefinition> CreateTableAsync(TableDefinition table);

    /// <summary>
    /// <c>ALTER TABLE … ADD COLUMN</c>: appends a nullable column to a user table's definition (persisted; every silo's
    /// table grains take it on when they next open). Returns the new definition, or null when the column already
    /// exists (nothing changed).
    /// </summary>
    /// <remarks>Fails (a schema error) when the table is built in or does not exist, or the column is not nullable.</remarks>
    Task<TableDefinition?> AddColumnAsync(string table, ColumnDefinition column);

    /// <summary>Records that <paramref name="project"/> has rows in <paramref name="table"/> (for admin-wide queries).</summary>
    Task RegisterProjectAsync(string table, string project);

    /// <summary>The projects known to have rows in <paramref name="table"/>.</summary>
    Task<IReadOnlyList<string>> ProjectsOfAsync(string table);

    /// <summary>
    /// Forgets a user table: its definition, its projects and its retentions. Returns false when it did not exist.
    /// The table grains' storage is deleted by the caller first (<see cref="ITableGrain.DropAsync"/>).
    /// </summary>
    /// <remarks>A built-in table cannot be dropped (the catalog refuses it).</remarks>
    Task<bool> DropTableAsync(string table);

    /// <summary>
    /// Every table with its columns and the projects known to have rows in it, in one call: what the gateway plans a
    /// statement with (one catalog round trip per statement, not one per table).
    /// </summary>
    Task<IReadOnlyList<CatalogTable>> ListTablesWithProjectsAsync();

    /// <summary>
    /// Sets the retention of <paramref name="table"/>: table-wide when <paramref name="project"/> is null, else that
    /// project's override; a null <paramref name="retention"/> clears it (table-wide: keep everything; project: use the table's).
    /// </summary>
    Task SetRetentionAsync(string table, string? project, TimeSpan? retention);

    /// <summary>The effective retention of (<paramref name="project"/>, <paramref name="table"/>): the project's override, else the table's, else null.</summary>
    Task<TimeSpan?> RetentionOfAsync(string table, string project);
}

/// <summary>A table's name and columns.</summary>
[GenerateSerializer, Immutable]
public sealed record TableDefinition([property: Id(0)] string Name, [property: Id(1)] IReadOnlyList<ColumnDefinition> Columns);

/// <summary>A table's definition and the projects known to have rows in it.</summary>
[GenerateSerializer, Immutable]
public sealed record CatalogTable([property: Id(0)] TableDefinition Table, [property: Id(1)] IReadOnlyList<string> Projects);
