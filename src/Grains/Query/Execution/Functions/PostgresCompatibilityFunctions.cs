namespace TimeFusion.Query.Execution;

/// <summary>
/// PostgreSQL spellings that clients call on connect and that DuckDB answers differently: <c>version()</c> (drivers
/// and Grafana parse a "PostgreSQL 15.x" prefix), <c>current_database()</c>, <c>current_schema()</c>,
/// <c>to_char(timestamp, format)</c> (PostgreSQL's template patterns translated to <c>strftime</c>'s) and the
/// <c>jsonb</c> type name, and the JSON and time functions observability SQL uses (<c>jsonb_typeof</c>, <c>date_bin</c>,
/// <c>make_interval</c>, the <c>jsonb_array_elements</c>/<c>jsonb_each</c> table functions). Operators and variadic
/// functions DuckDB spells differently are rewritten in the parse tree instead (<c>Planning/PostgresOperators</c>). Defined in the silo's DuckDB database, beside <see cref="TimeBucketFunction"/>, and in the
/// planner's, which binds every statement before it runs.
/// </summary>
public static class PostgresCompatibilityFunctions
{
    /// <summary>What <c>SELECT version()</c> answers.</summary>
    public const string Version = "PostgreSQL 15.0 (TimeFusion 0.1, DuckDB engine) on x86_64-pc-linux-gnu, 64-bit";

    private const string DivisionByZero = TimeFusion.DuckDb.DuckDbErrorTranslation.DivisionByZeroText;

    /// <summary>The macro definitions.</summary>
    public const string CreateMacrosSql = $"""
        CREATE OR REPLACE MACRO version() AS '{Version}';
        CREATE OR REPLACE MACRO current_database() AS 'timefusion';
        CREATE OR REPLACE MACRO current_schema() AS 'public';
        CREATE OR REPLACE MACRO jsonb_typeof(j) AS CASE json_type(CAST(j AS JSON)) WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' WHEN 'BIGINT' THEN 'number' WHEN 'UBIGINT' THEN 'number' WHEN 'DOUBLE' THEN 'number' END;
        CREATE OR REPLACE MACRO __pg_substring_regex(s, p, g) AS CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p, g) END;
        CREATE OR REPLACE MACRO json_typeof(j) AS jsonb_typeof(j);
        CREATE OR REPLACE MACRO __pg_div(a, b) AS CASE WHEN b = 0 THEN error('{DivisionByZero}') ELSE a / b END;
        CREATE OR REPLACE MACRO __pg_mod(a, b) AS CASE WHEN b = 0 THEN error('{DivisionByZero}') ELSE a % b END;
        CREATE OR REPLACE MACRO date_bin(stride, source, origin) AS to_timestamp((epoch_us(origin) + CAST(floor((epoch_us(source) - epoch_us(origin)) / epoch_us(TIMESTAMP '1970-01-01' + stride)) AS BIGINT) * epoch_us(TIMESTAMP '1970-01-01' + stride)) / 1000000.0);
        CREATE OR REPLACE MACRO make_interval(years := 0, months := 0, weeks := 0, days := 0, hours := 0, mins := 0, secs := 0) AS to_years(CAST(years AS INTEGER)) + to_months(CAST(months AS INTEGER)) + to_days(CAST(weeks * 7 + days AS INTEGER)) + to_hours(CAST(hours AS BIGINT)) + to_minutes(CAST(mins AS BIGINT)) + to_microseconds(CAST(round(secs * 1000000) AS BIGINT));
        CREATE OR REPLACE MACRO jsonb_array_elements(j) AS TABLE SELECT unnest(CAST(CAST(j AS JSON) AS JSON[])) AS value;
        CREATE OR REPLACE MACRO jsonb_array_elements_text(j) AS TABLE SELECT unnest(json_extract_string(CAST(j AS JSON), '$[*]')) AS value;
        CREATE OR REPLACE MACRO jsonb_each(j) AS TABLE SELECT k AS key, json_extract(CAST(j AS JSON), '/' || replace(replace(k, '~', '~0'), '/', '~1')) AS value FROM (SELECT unnest(json_keys(CAST(j AS JSON))) AS k);
        CREATE OR REPLACE MACRO jsonb_each_text(j) AS TABLE SELECT k AS key, json_extract_string(CAST(j AS JSON), '/' || replace(replace(k, '~', '~0'), '/', '~1')) AS value FROM (SELECT unnest(json_keys(CAST(j AS JSON))) AS k);
        CREATE OR REPLACE MACRO json_array_elements(j) AS TABLE SELECT * FROM jsonb_array_elements(j);
        CREATE OR REPLACE MACRO json_array_elements_text(j) AS TABLE SELECT * FROM jsonb_array_elements_text(j);
        CREATE OR REPLACE MACRO json_each(j) AS TABLE SELECT * FROM jsonb_each(j);
        CREATE OR REPLACE MACRO json_each_text(j) AS TABLE SELECT * FROM jsonb_each_text(j);
        CREATE OR REPLACE MACRO to_char(ts, fmt) AS strftime(ts, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(fmt, '"', ''), 'YYYY', '%Y'), 'YY', '%y'), 'Month', '%B'), 'Mon', '%b'), 'MM', '%m'), 'DD', '%d'), 'Day', '%A'), 'Dy', '%a'), 'HH24', '%H'), 'HH12', '%I'), 'HH', '%I'), 'MI', '%M'), 'SS', '%S'), 'MS', '%g'), 'US', '%f'), 'AM', '%p'), 'PM', '%p'), 'TZ', '%Z'));
        """;

    /// <summary>PostgreSQL type names DuckDB lacks: <c>jsonb</c> (DuckDB's JSON).</summary>
    public const string CreateTypesSql = "CREATE TYPE jsonb AS JSON;";
}
