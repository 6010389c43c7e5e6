using TimeFusion.Wire;
namespace TimeFusion.Query.Planning;

/// <summary>Function names planning treats specially.</summary>
internal static class SqlFunctions
{
    /// <summary>Functions whose result changes from call to call: never pushed down twice, never in DML (WAL replay must repeat the same change).</summary>
    public static readonly HashSet<string> Volatile = new(StringComparer.OrdinalIgnoreCase)
    {
        "random", "gen_random_uuid", "uuid", "uuidv4", "uuidv7", "setseed", "nextval", "currval",
    };

    /// <summary>Zero-argument functions that read the clock as a TIMESTAMPTZ.</summary>
    public static readonly HashSet<string> CurrentTimestamp = new(StringComparer.OrdinalIgnoreCase)
    {
        "now", "get_current_timestamp", "transaction_timestamp", "current_timestamp", "statement_timestamp",
    };

    /// <summary>Zero-argument functions that read the clock as a DATE.</summary>
    public static readonly HashSet<string> CurrentDate = new(StringComparer.OrdinalIgnoreCase) { "today", "current_date" };

    /// <summary>Table functions a query may use: they read no files and no engine state.</summary>
    public static readonly HashSet<string> AllowedTableFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "range", "generate_series", "unnest",
        // PostgreSQL's JSON set-returning functions (table macros in PostgresCompatibilityFunctions).
        "jsonb_array_elements", "jsonb_array_elements_text", "jsonb_each", "jsonb_each_text",
        "json_array_elements", "json_array_elements_text", "json_each", "json_each_text",
    };

    /// <summary>Scalar functions a statement may not call: they read engine settings or variables, or stall a worker.</summary>
    public static readonly HashSet<string> Denied = new(StringComparer.OrdinalIgnoreCase)
    {
        "current_setting", "getvariable", "sleep_ms", "pg_sleep",
    };

    /// <summary>Refuses (42501) a tree that calls a <see cref="Denied"/> function.</summary>
    public static void RefuseDenied(System.Text.Json.Nodes.JsonNode? tree)
    {
        foreach (var o in SqlAst.Objects(tree))
        {
            if (SqlAst.Class(o) == "FUNCTION" && Denied.Contains(SqlAst.Str(o, "function_name")))
                throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"function {SqlAst.Str(o, "function_name")}() is not allowed");
        }
    }
}
