using TimeFusion.Sql;
namespace TimeFusion.Query.Planning;

/// <summary>
/// Which function names DuckDB knows as aggregates, scalars and table functions (from <c>duckdb_functions()</c>).
/// Macros count as aggregates when their definition calls an aggregate (e.g. <c>geomean</c> is
/// <c>exp(avg(ln(x)))</c>), so that no aggregate hides behind a macro name.
/// </summary>
internal sealed class FunctionCatalog
{
    private readonly HashSet<string> _aggregates;
    private readonly HashSet<string> _scalars;

    /// <summary>Builds the catalog from (name, type, macro definition) rows.</summary>
    public FunctionCatalog(IEnumerable<(string Name, string Type, string? MacroDefinition)> functions)
    {
        _aggregates = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        _scalars = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var macros = new List<(string Name, string Definition)>();
        foreach (var (name, type, definition) in functions)
        {
            switch (type)
            {
                case "aggregate":
                    _aggregates.Add(name);
                    break;
                case "scalar":
                    _scalars.Add(name);
                    break;
                case "macro":
                    macros.Add((name, definition ?? ""));
                    break;
            }
        }
        // Fixpoint: a macro that calls an aggregate (or an aggregate macro) is an aggregate.
        var calls = macros.Select(m => (m.Name, Calls: CalledNames(m.Definition))).ToList();
        bool changed;
        do
        {
            changed = false;
            foreach (var (name, called) in calls)
            {
                if (!_aggregates.Contains(name) && called.Any(_aggregates.Contains))
                {
                    _aggregates.Add(name);
                    changed = true;
                }
            }
        } while (changed);
        foreach (var (name, _) in calls)
        {
            if (!_aggregates.Contains(name)) _scalars.Add(name);
        }
    }

    /// <summary>Whether <paramref name="name"/> is (or may be) an aggregate function.</summary>
    public bool IsAggregate(string name) => _aggregates.Contains(name);

    /// <summary>Whether <paramref name="name"/> is known as a scalar function and not as an aggregate.</summary>
    public bool IsScalar(string name) => _scalars.Contains(name) && !_aggregates.Contains(name);

    private static List<string> CalledNames(string definition)
    {
        var names = new List<string>();
        List<SqlToken> tokens;
        try
        {
            tokens = SqlTokenizer.Tokenize(definition);
        }
        catch (SqlSyntaxException)
        {
            return names;
        }
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if (tokens[i].Kind == SqlTokenKind.Word && tokens[i + 1].Kind == SqlTokenKind.Open && definition[tokens[i + 1].Start] == '(')
                names.Add(tokens[i].Text(definition));
        }
        return names;
    }
}
