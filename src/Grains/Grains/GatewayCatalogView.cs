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
        var list = await catalog.ListTablesAsync();
        foreach (var t in list) tables[t.Name] = TableSchema.Create(t.Name, t.Columns);
        if (withProjects)
        {
            var perTable = await Task.WhenAll(list.Select(t => catalog.ProjectsOfAsync(t.Name)));
            for (var i = 0; i < list.Count; i++) projects[list[i].Name] = perTable[i];
        }
        return new GatewayCatalogView(tables, projects);
    }

    public TableSchema? Find(string name) => _tables.GetValueOrDefault(name);

    public IReadOnlyList<string> ProjectsOf(string table) => _projects.TryGetValue(table, out var p) ? p : [];
}
