using TimeFusion.Query.Planning;
using TimeFusion.Tables;

namespace TimeFusion.Grains;

/// <summary>A point-in-time view of the catalog for planning one statement.</summary>
internal sealed class GatewayCatalogView : ICatalogView
{
    private readonly Dictionary<string, TableSchema> _tables;
    private readonly Dictionary<string, IReadOnlyList<string>> _projects;

    private GatewayCatalogView(Dictionary<string, TableSchema> tables, Dictionary<string, IReadOnlyList<string>> projects)
    {
        _tables = tables;
        _projects = projects;
    }

    public static async Task<GatewayCatalogView> LoadAsync(ICatalogGrain catalog, bool withProjects)
    {
        var tables = new Dictionary<string, TableSchema>(StringComparer.OrdinalIgnoreCase);
        var projects = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        if (withProjects)
        {
            // One catalog call for tables and projects together (row-level tenancy needs the projects of every table).
            foreach (var entry in await catalog.ListTablesWithProjectsAsync())
            {
                tables[entry.Table.Name] = TableSchema.Create(entry.Table.Name, entry.Table.Columns);
                projects[entry.Table.Name] = entry.Projects;
            }
        }
        else
        {
            foreach (var t in await catalog.ListTablesAsync()) tables[t.Name] = TableSchema.Create(t.Name, t.Columns);
        }
        return new GatewayCatalogView(tables, projects);
    }

    public TableSchema? Find(string name) => _tables.GetValueOrDefault(name);

    public IReadOnlyList<string> ProjectsOf(string table) => _projects.TryGetValue(table, out var p) ? p : [];
}
