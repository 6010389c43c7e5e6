namespace TimeFusion.Query.Execution;

/// <summary>
/// PostgreSQL spellings that clients call on connect and that DuckDB answers differently: <c>version()</c> (drivers
/// and Grafana parse a "PostgreSQL 15.x" prefix), <c>current_database()</c> and <c>current_schema()</c>.
/// Defined as macros in the silo's DuckDB database, beside <see cref="TimeBucketFunction"/>.
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
        """;
}
