namespace TimeFusion.Query.Planning;

/// <summary>Settings of the <see cref="SqlParser"/>'s private in-memory DuckDB database.</summary>
public sealed class SqlParserOptions
{
    /// <summary>How many idle parser connections are kept for reuse (more are opened under load, then closed).</summary>
    public int MaxIdleSessions { get; set; } = 8;

    /// <summary>
    /// DuckDB memory limit of the parser database. Planning evaluates constant expressions from user SQL
    /// (time bounds) and binds queries over empty tables; this bounds what a hostile expression can allocate.
    /// </summary>
    public string MemoryLimit { get; set; } = "256MB";
}
