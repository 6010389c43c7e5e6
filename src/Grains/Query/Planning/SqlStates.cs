namespace TimeFusion.Query.Planning;

/// <summary>The PostgreSQL SQLSTATE codes planning reports.</summary>
public static class SqlStates
{
    /// <summary>Syntax error.</summary>
    public const string SyntaxError = "42601";

    /// <summary>Unknown table (undefined_table).</summary>
    public const string UndefinedTable = "42P01";

    /// <summary>Unknown column (undefined_column).</summary>
    public const string UndefinedColumn = "42703";

    /// <summary>Ambiguous column reference.</summary>
    public const string AmbiguousColumn = "42702";

    /// <summary>Column named twice where it must be unique.</summary>
    public const string DuplicateColumn = "42701";

    /// <summary>Unknown function.</summary>
    public const string UndefinedFunction = "42883";

    /// <summary>A column must appear in GROUP BY or be aggregated.</summary>
    public const string GroupingError = "42803";

    /// <summary>Other semantic errors found while binding (the class code).</summary>
    public const string SyntaxErrorOrAccessRuleViolation = "42000";

    /// <summary>The caller may not read or write a project, or the statement reaches none.</summary>
    public const string InsufficientPrivilege = "42501";

    /// <summary>A construct the engine does not support.</summary>
    public const string FeatureNotSupported = "0A000";

    /// <summary>A value cannot be converted (invalid_text_representation).</summary>
    public const string InvalidTextRepresentation = "22P02";

    /// <summary>A numeric value is out of range.</summary>
    public const string NumericValueOutOfRange = "22003";

    /// <summary>An internal error: a bug, never the caller's fault.</summary>
    public const string InternalError = "XX000";
}
