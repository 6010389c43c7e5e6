namespace TimeFusion.Query.Planning;

/// <summary>Where the projects of a table reference came from.</summary>
public enum ProjectSource
{
    /// <summary><c>project_id = …</c> / <c>project_id IN (…)</c> in the WHERE clause (or an inner join's ON).</summary>
    Predicate,

    /// <summary>The caller's default project.</summary>
    Default,

    /// <summary>Every project of the table (admins only, when neither of the above applies).</summary>
    AllProjects,
}
