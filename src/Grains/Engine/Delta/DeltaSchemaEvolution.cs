using TimeFusion.Delta.Actions;
using TimeFusion.Tables;

namespace TimeFusion.Delta;

/// <summary>
/// Delta schema evolution for <c>ALTER TABLE … ADD COLUMN</c>: the table's <c>metaData</c> is replaced by one with the
/// new schema, and the columns added after the table was created are listed in its configuration, so that readers
/// know which columns a data file written earlier may lack (and read them as NULL).
/// </summary>
public static class DeltaSchemaEvolution
{
    /// <summary>Configuration key: the comma-separated names of the columns added after the table was created.</summary>
    public const string AddedColumnsKey = "timefusion.addedColumns";

    /// <summary>The columns of <paramref name="snapshot"/>'s table that data files written before them lack (empty for most tables).</summary>
    public static IReadOnlySet<string> AddedColumns(DeltaSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.Metadata.Configuration.TryGetValue(AddedColumnsKey, out var list) && !string.IsNullOrEmpty(list)
            ? new HashSet<string>(list.Split(','), StringComparer.Ordinal)
            : EmptySet;
    }

    private static readonly IReadOnlySet<string> EmptySet = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// The <c>metaData</c> action that moves <paramref name="snapshot"/>'s table to <paramref name="schema"/>, or null
    /// when there is nothing to do: the schemas agree, or <paramref name="schema"/> is not the stored one plus new
    /// columns (no other change is ever evolved).
    /// </summary>
    public static MetadataAction? Evolve(DeltaSnapshot snapshot, TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(schema);
        var wanted = schema.ToDeltaSchemaString();
        if (snapshot.Metadata.SchemaString == wanted) return null;
        var stored = snapshot.SchemaFields.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        if (!stored.All(name => schema.IndexOf(name) >= 0)) return null;
        var added = schema.Columns.Where(c => !stored.Contains(c.Name)).Select(c => c.Name).ToList();
        if (added.Count == 0) return null;
        if (added.Any(name => name.Contains(',', StringComparison.Ordinal)))
            throw new SchemaException($"table '{schema.Name}': an added column's name may not contain ','");
        var configuration = new Dictionary<string, string>(snapshot.Metadata.Configuration, StringComparer.Ordinal);
        var before = AddedColumns(snapshot);
        configuration[AddedColumnsKey] = string.Join(",", schema.Columns.Select(c => c.Name).Where(n => before.Contains(n) || added.Contains(n)));
        return snapshot.Metadata with { SchemaString = wanted, Configuration = configuration };
    }
}
