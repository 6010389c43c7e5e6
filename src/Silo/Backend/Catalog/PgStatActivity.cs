using System.Globalization;
using System.Text;
using TimeFusion.Silo.Protocol.Postgres.Session;
using TimeFusion.Sql;
using TimeFusion.Tables;

namespace TimeFusion.Silo.Backend.Catalog;

/// <summary>
/// <c>pg_stat_activity</c> and <c>pg_backend_pid()</c> for one catalog statement. The catalog database is shared by
/// every session of the silo, so the rows (this silo's connections the caller may see) are not stored there: the
/// statement gets them as a leading CTE named <c>pg_stat_activity</c>, which hides the catalog's empty relation of the
/// same name. <c>pg_backend_pid()</c> becomes the connection's process id (the one in BackendKeyData).
/// </summary>
internal static class PgStatActivity
{
    private const string Columns = "datid, datname, pid, leader_pid, usesysid, usename, application_name, client_addr, client_hostname, "
        + "client_port, backend_start, xact_start, query_start, state_change, wait_event_type, wait_event, state, backend_xid, backend_xmin, "
        + "query_id, query, backend_type";

    /// <summary>The catalog relation (empty: each statement brings its rows), in the catalog database's dialect.</summary>
    public const string CreateSql = """
        CREATE TABLE tfpg.pg_stat_activity(datid BIGINT, datname VARCHAR, pid INTEGER, leader_pid INTEGER, usesysid BIGINT,
          usename VARCHAR, application_name VARCHAR, client_addr VARCHAR, client_hostname VARCHAR, client_port INTEGER,
          backend_start TIMESTAMPTZ, xact_start TIMESTAMPTZ, query_start TIMESTAMPTZ, state_change TIMESTAMPTZ,
          wait_event_type VARCHAR, wait_event VARCHAR, state VARCHAR, backend_xid BIGINT, backend_xmin BIGINT, query_id BIGINT,
          query VARCHAR, backend_type VARCHAR);
        """;

    /// <summary>
    /// <paramref name="sql"/> with <paramref name="rows"/> as <c>pg_stat_activity</c> (when it names it) and
    /// <c>pg_backend_pid()</c> as <paramref name="processId"/>; unchanged when it names neither.
    /// </summary>
    public static string Attach(string sql, int processId, Func<IEnumerable<PostgresActivity>> rows)
    {
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        var names = false;
        StringBuilder? output = null;
        var copied = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)) continue;
            var word = tokens[i].FoldedIdentifier(sql);
            if (word == "pg_stat_activity") names = true;
            if (word == "pg_backend_pid" && i + 2 < tokens.Count && tokens[i + 1].IsSymbolChar(sql, '(') && tokens[i + 2].IsSymbolChar(sql, ')'))
            {
                output ??= new StringBuilder(sql.Length + 16);
                output.Append(sql, copied, tokens[i].Start - copied).Append(processId.ToString(CultureInfo.InvariantCulture));
                copied = tokens[i + 2].End;
                i += 2;
            }
        }
        if (output is not null) sql = output.Append(sql, copied, sql.Length - copied).ToString();
        if (!names) return sql;
        var activity = rows().ToList();
        if (activity.Count == 0) return sql; // the catalog's relation is empty
        var cte = $"pg_stat_activity AS (SELECT * FROM (VALUES {string.Join(", ", activity.Select(Row))}) AS __activity({Columns}))";
        // Merged into the statement's own WITH, if it has one.
        tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        if (tokens.Count > 0 && tokens[0].Kind == SqlTokenKind.Word && tokens[0].FoldedIdentifier(sql) == "with")
        {
            var at = tokens.Count > 1 && tokens[1].Kind == SqlTokenKind.Word && tokens[1].FoldedIdentifier(sql) == "recursive" ? tokens[1].End : tokens[0].End;
            return sql[..at] + " " + cte + "," + sql[at..];
        }
        return $"WITH {cte} {sql}";
    }

    private static string Row(PostgresActivity a) => "(" + string.Join(", ",
        "CAST(16383 AS BIGINT)", Text(a.Database), Int(a.ProcessId), "CAST(NULL AS INTEGER)",
        $"(SELECT CAST(__r.oid AS BIGINT) FROM pg_roles __r WHERE __r.rolname = {SqlNames.Literal(a.UserName)})",
        Text(a.UserName), Text(a.ApplicationName), Text(a.Client?.Address.ToString()), "CAST(NULL AS VARCHAR)",
        a.Client is null ? "CAST(NULL AS INTEGER)" : Int(a.Client.Port), Time(a.BackendStart),
        "CAST(NULL AS TIMESTAMPTZ)", Time(a.QueryStart), Time(a.StateChange), "CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR)",
        Text(a.State), "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)", Text(a.Query), Text("client backend")) + ")";

    private static string Text(string? value) => value is null ? "CAST(NULL AS VARCHAR)" : $"CAST({SqlNames.Literal(value)} AS VARCHAR)";

    private static string Int(int value) => $"CAST({value.ToString(CultureInfo.InvariantCulture)} AS INTEGER)";

    private static string Time(DateTimeOffset? value) => value is { } v
        ? $"CAST('{v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}+00' AS TIMESTAMPTZ)"
        : "CAST(NULL AS TIMESTAMPTZ)";
}
