namespace TimeFusion.Grains;

/// <summary>
/// The key of a table grain: <c>"{project}/{table}"</c>. Table names never contain '/', so the last '/' splits
/// the key; a project id may contain anything.
/// </summary>
public static class TableGrainKey
{
    /// <summary>The key of (project, table).</summary>
    public static string Format(string project, string table)
    {
        ArgumentException.ThrowIfNullOrEmpty(project);
        ArgumentException.ThrowIfNullOrEmpty(table);
        if (table.Contains('/')) throw new ArgumentException($"table name '{table}' may not contain '/'", nameof(table));
        return project + "/" + table;
    }

    /// <summary>Splits a key into (project, table).</summary>
    public static (string Project, string Table) Parse(string key)
    {
        var slash = key.LastIndexOf('/');
        if (slash <= 0 || slash == key.Length - 1) throw new ArgumentException($"'{key}' is not a table grain key", nameof(key));
        return (key[..slash], key[(slash + 1)..]);
    }
}
