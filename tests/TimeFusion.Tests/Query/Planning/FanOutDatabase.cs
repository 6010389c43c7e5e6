using System.Globalization;
using DuckDB.NET.Data;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Query.Planning;

/// <summary>
/// Stands in for grains and the gateway: one in-memory DuckDB with an attached database per project
/// (<c>g_p1</c>, <c>g_p2</c>, <c>g_p3</c>, each holding that project's rows of <c>events</c> and
/// <c>otel_logs_and_spans</c>), <c>g_all</c> with the union (the reference answer), and <c>gw</c> for the gateway.
/// </summary>
public sealed class FanOutDatabase : IDisposable
{
    public static readonly string[] Projects = ["p1", "p2", "p3"];
    public const int RowsPerProject = 3000;

    public FanOutDatabase()
    {
        Connection = new DuckDBConnection("DataSource=:memory:");
        Connection.Open();
        Execute("SET TimeZone = 'UTC'");
        foreach (var db in Projects.Select(p => "g_" + p).Append("g_all").Append("gw"))
            Execute($"ATTACH ':memory:' AS {db}");
        for (var s = 1; s <= Projects.Length; s++)
        {
            var db = "g_p" + s;
            Execute($"CREATE TABLE {db}.main.events ({TestCatalog.EventsSchema.ToDuckDbColumns()})");
            Execute($"INSERT INTO {db}.main.events {EventsRows(s)}");
            Execute($"CREATE TABLE {db}.main.otel_logs_and_spans ({OtelLogsAndSpans.Schema.ToDuckDbColumns()})");
            Execute($"INSERT INTO {db}.main.otel_logs_and_spans BY NAME {OtelRows(s)}");
        }
        foreach (var table in new[] { "events", "otel_logs_and_spans" })
        {
            Execute($"CREATE TABLE g_all.main.{table} AS " + string.Join(" UNION ALL ", Projects.Select(p => $"SELECT * FROM g_{p}.main.{table}")));
        }
        // The planner's PostgreSQL functions (division raising 22012, …), as the silo defines them where plans run.
        foreach (var db in Projects.Select(p => "g_" + p).Append("gw"))
        {
            Execute("USE " + db);
            Execute(TimeFusion.Query.Execution.PostgresCompatibilityFunctions.CreateMacrosSql + TimeFusion.Query.Execution.PostgresCompatibilityFunctions.CreateTypesSql);
        }
        Execute("USE gw");
    }

    public DuckDBConnection Connection { get; }

    public void Execute(string sql)
    {
        using var cmd = Connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Runs a query and returns its rows (values as CLR objects, DBNull as null).</summary>
    public List<object?[]> Query(string sql)
    {
        using var cmd = Connection.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public void Dispose() => Connection.Dispose();

    // Deterministic rows over the 36 hours before the analyzers' "now" (PlanningFixture.Now); timestamps are unique
    // across projects (7919 is coprime with the modulus, and project s adds s microseconds).
    private static string EventsRows(int s)
    {
        var now = PlanningFixture.Now.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
        return $$"""
            SELECT CAST(ts AS DATE), ts, service, level, duration, status, latency, ok, attributes, trace_id, tags, 'p{{s}}'
            FROM (
              SELECT i,
                TIMESTAMPTZ '{{now}}+00' - to_microseconds(((i * 43201 + {{s}} * 104729) % 129600000) * 1000 + {{s}}) AS ts,
                ['api', 'web', 'db', 'auth', 'billing'][(i * 31 + {{s}}) % 5 + 1] AS service,
                CASE WHEN i % 97 = 0 THEN NULL ELSE ['info', 'warn', 'error', 'debug'][(i * 17 + {{s}} * 3) % 4 + 1] END AS level,
                CAST((i * 37 + {{s}} * 1000) % 5000 AS BIGINT) AS duration,
                CAST([200, 201, 404, 500, 503][(i * 13 + {{s}}) % 5 + 1] AS INTEGER) AS status,
                CASE WHEN i % 89 = 0 THEN NULL ELSE ((i * 7 + {{s}}) % 1000) / 7.0 END AS latency,
                (i % 3) <> 0 AS ok,
                '{"http.method":"' || ['GET', 'POST', 'PUT'][(i + {{s}}) % 3 + 1] || '","user":"u' || (i % 17) || '"}' AS attributes,
                't' || (i // 3) AS trace_id,
                CASE WHEN i % 2 = 0 THEN ['a', 'b'] ELSE ['c'] END AS tags
              FROM range({{RowsPerProject}}) r(i)
            )
            """;
    }

    private static string OtelRows(int s)
    {
        var now = PlanningFixture.Now.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
        return $$"""
            SELECT CAST(ts AS DATE) AS date, ts AS "timestamp", 'id-{{s}}-' || i AS id,
              ['GET /users', 'POST /orders', 'SELECT users', 'cache.get'][(i * 11 + {{s}}) % 4 + 1] AS name,
              ['info', 'error', 'warn'][(i * 5 + {{s}}) % 3 + 1] AS level,
              ['OK', 'ERROR', 'UNSET'][(i * 7 + {{s}}) % 3 + 1] AS status_code,
              CAST((i * 104729 + {{s}}) % 2000000 AS BIGINT) AS duration,
              ['checkout', 'frontend', 'payments'][(i * 3 + {{s}}) % 3 + 1] AS resource___service___name,
              CAST([200, 404, 500][(i + {{s}}) % 3 + 1] AS INTEGER) AS attributes___http___response___status_code,
              'p{{s}}' AS project_id
            FROM (
              SELECT i, TIMESTAMPTZ '{{now}}+00' - to_microseconds(((i * 43201 + {{s}} * 104729) % 129600000) * 1000 + {{s}}) AS ts
              FROM range({{RowsPerProject}}) r(i)
            )
            """;
    }
}
