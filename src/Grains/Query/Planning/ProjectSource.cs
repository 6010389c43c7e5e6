namespace TimeFusion.Query.Planning;

/// <summary>Where the projects of a table reference came from.</summary>
public enum ProjectSource
{
    /// <summary><c>project_id = …</c> / <c>project_id IN (…)</c> in the WHERE clause (or an inner join's ON).</summary>
    Predicate,

    /// <summary>
    /// No predicate names the project: every project of the table the caller may read (or, for UPDATE and DELETE,
    /// write) — an admin's are all of them, as with PostgreSQL's row-level security.
    /// </summary>
    AllProjects,
}
