using TimeFusion.Tables;

namespace TimeFusion.Query.Planning;

/// <summary>What planning needs to know of the catalog: table schemas and which projects have a table.</summary>
public interface ICatalogView
{
    /// <summary>
    /// The schema of the table named <paramref name="name"/>, or null. Names match case-insensitively, like
    /// PostgreSQL unquoted identifiers (and DuckDB identifiers).
    /// </summary>
    TableSchema? Find(string name);

    /// <summary>The projects that hold data in <paramref name="table"/> (the canonical table name).</summary>
    IReadOnlyList<string> ProjectsOf(string table);
}
