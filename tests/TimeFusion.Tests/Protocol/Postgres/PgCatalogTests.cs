using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Silo.Backend.Catalog;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>
/// The catalog database on its own: the PostgreSQL spellings it translates and the answers it gives to what psql,
/// Npgsql and Grafana send (the psql and Npgsql conversations themselves run against the cluster in Cluster/).
/// </summary>
public sealed class PgCatalogTests : IDisposable
{
    private readonly PgCatalogDatabase _catalog = new();

    private static readonly IReadOnlyList<TableDefinition> Tables =
    [
        new(OtelLogsAndSpans.Schema.Name, OtelLogsAndSpans.Schema.Columns),
        new("metrics", [new("timestamp", ColumnType.TimestampUs, false), new("name", ColumnType.Utf8), new("value", ColumnType.Float64)]),
    ];

    private static readonly IReadOnlyList<PostgresUser> Users =
    [
        new() { Name = "admin", IsAdmin = true },
        new() { Name = "reader", Projects = ["p1"] },
    ];

    public void Dispose() => _catalog.Dispose();

    private async Task<List<string?[]>> Rows(string sql, IReadOnlyList<TableDefinition>? tables = null)
    {
        var (schema, batches) = await _catalog.QueryAsync(sql, "reader", tables ?? Tables, Users, CancellationToken.None);
        var rows = new List<string?[]>();
        foreach (var batch in batches)
        {
            using (batch)
            {
                for (var r = 0; r < batch.Length; r++)
                    rows.Add(Enumerable.Range(0, schema.FieldsList.Count).Select(c => Text(batch.Column(c), r)).ToArray());
            }
        }
        return rows;
    }

    private static string? Text(IArrowArray array, int row) => array.IsNull(row) ? null : array switch
    {
        StringArray s => s.GetString(row),
        Int64Array i => i.GetValue(row)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Int32Array i => i.GetValue(row)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Int16Array i => i.GetValue(row)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        BooleanArray b => b.GetValue(row)!.Value ? "t" : "f",
        _ => array.GetType().Name,
    };

    [Fact]
    public void Rewriting_turns_postgresql_catalog_spellings_into_the_catalog_databases()
    {
        var sql = "SELECT c.oid::pg_catalog.regclass, 'metrics'::regclass, n.nspname FROM pg_catalog.pg_class c "
            + "WHERE c.relname OPERATOR(pg_catalog.~) '^(metrics)$' COLLATE pg_catalog.default AND c.relname <> 'it''s -- pg_catalog.x'";
        var rewritten = PgCatalogRewriter.Rewrite(sql, "reader");
        // Unquoted names (keywords too) fold to lower case as in PostgreSQL; strings and quoted names keep theirs.
        Assert.Equal("select tfpg.tf_regclass_out(c.oid), tfpg.tf_regclass_in('metrics'), n.nspname from pg_class c "
            + "where c.relname ~ '(?s).*(?:^(metrics)$).*' and c.relname <> 'it''s -- pg_catalog.x'", rewritten);
        Assert.Equal("select 'reader', [0] = x from tfinfo.tables", PgCatalogRewriter.Rewrite("SELECT current_user, '{0}' = x FROM information_schema.tables", "reader"));
        Assert.Equal("select relname as table_name, relkind as \"Kind\" from pg_class where oid = any (select unnest(['1', '2']))",
            PgCatalogRewriter.Rewrite("SELECT relname AS TABLE_NAME, relkind AS \"Kind\" FROM pg_class WHERE oid = ANY(['1', '2'])", "reader"));
    }

    [Fact]
    public async Task Regular_expressions_match_anywhere_as_in_postgresql()
    {
        // \dn filters with nspname !~ '^pg_': DuckDB's own ~ would need the whole name to match.
        var schemas = await Rows("SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ORDER BY 1");
        Assert.Equal(["public"], schemas.Select(r => r[0]));
        var tables = await Rows("SELECT relname FROM pg_class WHERE relname ~ 'tric' ORDER BY 1");
        Assert.Equal(["metrics"], tables.Select(r => r[0]));
    }

    [Fact]
    public async Task Tables_columns_and_types_describe_the_timefusion_catalog()
    {
        var classes = await Rows("SELECT c.oid, c.relname, pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c WHERE pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2");
        Assert.Equal(["metrics", "otel_logs_and_spans"], classes.Select(r => r[1]));
        Assert.All(classes, r => Assert.Equal("admin", r[2]));

        var columns = await Rows($"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_catalog.pg_attribute a WHERE a.attrelid = '{classes[0][0]}' AND a.attnum > 0 ORDER BY a.attnum");
        Assert.Contains(["timestamp", "timestamp with time zone", "t"], columns);
        Assert.Contains(["value", "double precision", "f"], columns);
        Assert.Contains(["project_id", "text", "t"], columns);

        var otel = await Rows("SELECT column_name, data_type, udt_name FROM information_schema.columns WHERE table_name = 'otel_logs_and_spans' AND column_name IN ('attributes', 'hashes', 'duration') ORDER BY 1");
        Assert.Equal([["attributes", "jsonb", "jsonb"], ["duration", "bigint", "int8"], ["hashes", "ARRAY", "_text"]], otel);

        // A table created later appears on the next query.
        var more = Tables.Append(new TableDefinition("events", [new("timestamp", ColumnType.TimestampUs, false)])).ToList();
        Assert.Contains(["events"], (await Rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", more)).Select(r => new[] { r[0] }));
    }

    [Fact]
    public async Task Npgsqls_type_loading_finds_arrays_by_array_recv()
    {
        var rows = await Rows("""
            SELECT typ.typname, CASE WHEN proc.proname = 'array_recv' THEN 'a' ELSE typ.typtype END AS typtype, elem.typname
            FROM pg_type AS typ LEFT JOIN pg_proc AS proc ON proc.oid = typ.typreceive LEFT JOIN pg_type AS elem ON elem.oid = typ.typelem
            JOIN pg_namespace AS ns ON ns.oid = typ.typnamespace
            WHERE typ.typname IN ('text', '_text', 'jsonb', 'timestamptz', 'record') ORDER BY 1
            """);
        Assert.Equal([["_text", "a", "text"], ["jsonb", "b", null], ["record", "p", null], ["text", "b", null], ["timestamptz", "b", null]], rows);
    }

    [Fact]
    public async Task Grafanas_table_list_over_the_search_path_works()
    {
        var rows = await Rows("""
            SELECT quote_ident(table_name) FROM information_schema.tables WHERE ( table_schema IN (SELECT CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
            FROM generate_series(array_lower(string_to_array(current_setting('search_path'),','),1), array_upper(string_to_array(current_setting('search_path'),','),1)) as i,
            string_to_array(current_setting('search_path'),',') s) AND table_type = 'BASE TABLE') ORDER BY table_name
            """);
        Assert.Equal(["metrics", "otel_logs_and_spans"], rows.Select(r => r[0]));
    }

    [Fact]
    public async Task Result_columns_get_postgresql_names_and_unknown_relations_get_42P01()
    {
        var (schema, batches) = await _catalog.QueryAsync("SELECT current_setting('server_version_num'), count(*) FROM pg_catalog.pg_roles", "reader", Tables, Users, CancellationToken.None);
        foreach (var b in batches) b.Dispose();
        Assert.Equal(["current_setting", "count"], schema.FieldsList.Select(f => f.Name));
        var e = await Assert.ThrowsAsync<PostgresErrorException>(() => _catalog.QueryAsync("SELECT * FROM pg_catalog.pg_no_such", "reader", Tables, Users, CancellationToken.None));
        Assert.Equal(SqlState.UndefinedTable, e.SqlState);
        Assert.Contains("pg_no_such", e.Message);
    }
}
