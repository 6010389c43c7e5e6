using TimeFusion.Bench.Suite;

namespace TimeFusion.Bench.Queries;

/// <summary>One dashboard query in each dialect: TimeFusion (DuckDB SQL, project implied by the caller), DuckDB over Parquet, PostgreSQL.</summary>
public sealed record DashboardQuery(string Name, string TimeFusion, string DuckDb, string Postgres, double TargetMs)
{
    public const string Table = "otel_logs_and_spans";

    public static IReadOnlyList<DashboardQuery> All()
    {
        var end = Dataset.End;
        var hour = $"timestamp >= TIMESTAMPTZ '{end.AddHours(-1):yyyy-MM-dd HH:mm:ss}+00' AND timestamp < TIMESTAMPTZ '{end:yyyy-MM-dd HH:mm:ss}+00'";
        const string pg = "project_id = 'p-bench' AND ";
        return
        [
            new("count in the last hour",
                $"SELECT count(*) FROM {Table} WHERE {hour}",
                $"SELECT count(*) FROM {Table} WHERE {hour}",
                $"SELECT count(*) FROM {Table} WHERE {pg}{hour}", 10),
            new("per-minute count and p95 duration by service, whole range",
                $"SELECT epoch_us(timestamp) // 60000000 AS minute, resource___service___name AS service, count(*) AS n, quantile_cont(duration, 0.95) AS p95 FROM {Table} GROUP BY 1, 2",
                $"SELECT epoch_us(timestamp) // 60000000 AS minute, resource___service___name AS service, count(*) AS n, quantile_cont(duration, 0.95) AS p95 FROM {Table} GROUP BY 1, 2",
                $"SELECT floor(extract(epoch FROM timestamp) / 60)::bigint AS minute, resource___service___name AS service, count(*) AS n, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration) AS p95 FROM {Table} WHERE project_id = 'p-bench' GROUP BY 1, 2", 300),
            new("top-100 latest errors",
                $"SELECT timestamp, id, resource___service___name, body FROM {Table} WHERE level = 'ERROR' ORDER BY timestamp DESC LIMIT 100",
                $"SELECT timestamp, id, resource___service___name, body FROM {Table} WHERE level = 'ERROR' ORDER BY timestamp DESC LIMIT 100",
                $"SELECT timestamp, id, resource___service___name, body FROM {Table} WHERE {pg}level = 'ERROR' ORDER BY timestamp DESC LIMIT 100", 50),
            new("text search, ILIKE '%failed to handle%'",
                $"SELECT count(*) FROM {Table} WHERE body ILIKE '%failed to handle%'",
                $"SELECT count(*) FROM {Table} WHERE body ILIKE '%failed to handle%'",
                $"SELECT count(*) FROM {Table} WHERE {pg}body::text ILIKE '%failed to handle%'", 1000),
            new("text search, LIKE '%failed to handle%'",
                $"SELECT count(*) FROM {Table} WHERE body LIKE '%failed to handle%'",
                $"SELECT count(*) FROM {Table} WHERE body LIKE '%failed to handle%'",
                $"SELECT count(*) FROM {Table} WHERE {pg}body::text LIKE '%failed to handle%'", 1000),
            new("JSON attribute group-by (attributes->>route)",
                $"SELECT attributes->>'$.route' AS route, count(*) AS n FROM {Table} GROUP BY 1",
                $"SELECT attributes->>'$.route' AS route, count(*) AS n FROM {Table} GROUP BY 1",
                $"SELECT attributes->>'route' AS route, count(*) AS n FROM {Table} WHERE project_id = 'p-bench' GROUP BY 1", double.NaN),
        ];
    }
}
