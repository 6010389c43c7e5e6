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
        foreach (var t in await catalog.ListTablesAsync())
        {
            tables[t.Name] = TableSchema.Create(t.Name, t.Columns);
            if (withProjects) projects[t.Name] = await catalog.ProjectsOfAsync(t.Name);
        }
        return new GatewayCatalogView(tables, projects);
    }

    public TableSchema? Find(string name) => _tables.GetValueOrDefault(name);

    public IReadOnlyList<string> ProjectsOf(string table) => _projects.TryGetValue(table, out var p) ? p : [];
}
