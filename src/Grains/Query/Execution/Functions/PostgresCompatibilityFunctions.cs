namespace TimeFusion.Query.Execution;

/// <summary>
/// PostgreSQL spellings that clients call on connect and that DuckDB answers differently: <c>version()</c> (drivers
/// and Grafana parse a "PostgreSQL 15.x" prefix), <c>current_database()</c>, <c>current_schema()</c>,
/// <c>to_char(timestamp, format)</c> (PostgreSQL's template patterns translated to <c>strftime</c>'s) and the
/// <c>jsonb</c> type name. Defined in the silo's DuckDB database, beside <see cref="TimeBucketFunction"/>, and in the
/// planner's, which binds every statement before it runs.
/// </summary>
public static class PostgresCompatibilityFunctions
{
    /// <summary>What <c>SELECT version()</c> answers.</summary>
    public const string Version = "PostgreSQL 15.0 (TimeFusion 0.1, DuckDB engine) on x86_64-pc-linux-gnu, 64-bit";

    /// <summary>The macro definitions.</summary>
    public const string CreateMacrosSql = $"""
        CREATE OR REPLACE MACRO version() AS '{Version}';
        CREATE OR REPLACE MACRO current_database() AS 'timefusion';
        CREATE OR REPLACE MACRO current_schema() AS 'public';
        CREATE OR REPLACE MACRO to_char(ts, fmt) AS strftime(ts, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(fmt, '"', ''), 'YYYY', '%Y'), 'YY', '%y'), 'Month', '%B'), 'Mon', '%b'), 'MM', '%m'), 'DD', '%d'), 'Day', '%A'), 'Dy', '%a'), 'HH24', '%H'), 'HH12', '%I'), 'HH', '%I'), 'MI', '%M'), 'SS', '%S'), 'MS', '%g'), 'US', '%f'), 'AM', '%p'), 'PM', '%p'), 'TZ', '%Z'));
        """;

    /// <summary>PostgreSQL type names DuckDB lacks: <c>jsonb</c> (DuckDB's JSON).</summary>
    public const string CreateTypesSql = "CREATE TYPE jsonb AS JSON;";
}
