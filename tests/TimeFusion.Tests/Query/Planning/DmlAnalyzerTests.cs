using DuckDB.NET.Data;
using TimeFusion.Query.Planning;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Query.Planning;

[Collection(PlanningCollection.Name)]
public sealed class DmlAnalyzerTests(PlanningFixture f)
{
    private static readonly CallerScope User = CallerScope.User("p1", ["p1", "p2", "p3"], writable: ["p1", "p2"]);

    private DmlPlan Plan(string sql, CallerScope? caller = null) => f.Dml.AnalyzeUpdateOrDelete(sql, TestCatalog.Standard(), caller ?? User);

    [Fact]
    public void DeleteWithoutWhereIsEveryRowTheCallerMayWrite()
    {
        var plan = Plan("DELETE FROM events");
        Assert.Equal(DmlKind.Delete, plan.Kind);
        Assert.Equal("events", plan.Table.Name);
        Assert.Null(plan.Predicate);
        Assert.Empty(plan.Assignments);
        // Row-level security: the projects the caller may write, not only its default one.
        Assert.Equal(["p1", "p2"], plan.Projects);
        Assert.Equal(ProjectSource.AllProjects, plan.ProjectSource);
        Assert.True(plan.Time.IsUnbounded);
    }

    [Fact]
    public void DeleteWithAliasScopeAndTimeBounds()
    {
        var plan = Plan("DELETE FROM public.Events AS e WHERE e.level = 'debug' AND e.project_id IN ('p2') AND e.timestamp < now() - INTERVAL '30 days'");
        Assert.Equal("events", plan.Table.Name);
        Assert.Equal(["p2"], plan.Projects);
        Assert.Equal(ProjectSource.Predicate, plan.ProjectSource);
        Assert.Equal("((\"level\" = 'debug') AND (project_id IN ('p2')) AND (\"timestamp\" < (CAST('2024-05-17 12:30:45.123000+00' AS TIMESTAMP WITH TIME ZONE) - CAST('30 days' AS INTERVAL))))", plan.Predicate);
        Assert.Equal(new DateTimeOffset(2024, 4, 17, 12, 30, 45, 123, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000 - 1, plan.Time.MaxMicros);
        Assert.Equal(PlanningFixture.Now, plan.Now);
    }

    [Fact]
    public void UpdateCutsAssignmentsAndPredicateDespiteTrickyQuoting()
    {
        const string sql = """
            UPDATE events x -- WHERE in a comment, SET too
            SET "level" = 'a WHERE b, c', service = coalesce(service, 'x,(y') || $$ FROM $$, /* , */ status = (status + 1) * 2,
                attributes = '{"k": "v; WHERE"}'
            WHERE x.trace_id = 'it''s WHERE' AND (duration > 5 OR "level" = E'\'') AND x.project_id = 'p2';
            """;
        var plan = Plan(sql);
        Assert.Equal(DmlKind.Update, plan.Kind);
        Assert.Equal(["level", "service", "status", "attributes"], plan.Assignments.Select(a => a.Column));
        Assert.Equal("'a WHERE b, c'", plan.Assignments[0].Sql);
        Assert.Equal("(COALESCE(service, 'x,(y') || ' FROM ')", plan.Assignments[1].Sql);
        Assert.Equal("((status + 1) * 2)", plan.Assignments[2].Sql);
        Assert.Equal("'{\"k\": \"v; WHERE\"}'", plan.Assignments[3].Sql);
        Assert.Equal(["p2"], plan.Projects);
        Assert.Contains("(trace_id = 'it''s WHERE')", plan.Predicate);
        Assert.DoesNotContain("x.", plan.Predicate);
    }

    [Theory]
    [InlineData("DELETE FROM events WHERE level = 'debug' AND service LIKE 'a%'")]
    [InlineData("DELETE FROM events e WHERE e.duration BETWEEN 100 AND 2000 OR e.level IS NULL")]
    [InlineData("DELETE FROM events WHERE attributes->>'http.method' = 'GET' AND 'x;y' <> trace_id")]
    [InlineData("UPDATE events SET level = upper(level), duration = duration * 2 WHERE status >= 500")]
    [InlineData("UPDATE events AS e SET service = 'svc ''quoted'', (paren' WHERE e.service = 'api' AND e.ok")]
    [InlineData("UPDATE events SET tags = list_append(tags, 'x'), latency = NULL")]
    [InlineData("UPDATE events SET attributes = json_object('a', 1)::VARCHAR WHERE timestamp > '2024-05-17 06:00:00'")]
    public void PlannedDmlChangesTheSameRowsAsTheStatement(string sql)
    {
        var plan = Plan(sql);
        using var original = Database();
        using var planned = Database();
        Execute(original, sql);
        var where = plan.Predicate is null ? "" : " WHERE " + plan.Predicate;
        Execute(planned, plan.Kind == DmlKind.Delete
            ? "DELETE FROM events" + where
            : "UPDATE events SET " + string.Join(", ", plan.Assignments.Select(a => $"\"{a.Column}\" = {a.Sql}")) + where);
        const string all = "SELECT * FROM events ORDER BY timestamp";
        var expected = Rows(original, all);
        var actual = Rows(planned, all);
        Assert.Equal(expected, actual);
        using var untouched = Database();
        Assert.NotEqual(Rows(untouched, all), actual);
    }

    [Fact]
    public void WritesNeedWritableProjects()
    {
        var e = Assert.Throws<SqlPlanningException>(() => Plan("DELETE FROM events WHERE project_id = 'p3'"));
        Assert.Equal(SqlState.InsufficientPrivilege, e.SqlState);
        // Without a default project a user still reaches what it may write, and nothing else.
        Assert.Equal(["p1"], Plan("DELETE FROM events", CallerScope.User(null, ["p1"])).Projects);
        Assert.Empty(Plan("DELETE FROM events", CallerScope.User(null, ["p3"], writable: [])).Projects);
        var admin = Plan("DELETE FROM events WHERE level = 'x'", CallerScope.Admin());
        Assert.Equal(["p1", "p2", "p3"], admin.Projects);
        Assert.Equal(ProjectSource.AllProjects, admin.ProjectSource);
    }

    [Theory]
    [InlineData("UPDATE events SET nope = 1", SqlState.UndefinedColumn)]
    [InlineData("UPDATE events SET level = nope", SqlState.UndefinedColumn)]
    [InlineData("DELETE FROM events WHERE nope = 1", SqlState.UndefinedColumn)]
    [InlineData("DELETE FROM events e WHERE x.level = 'a'", SqlState.UndefinedTable)]
    [InlineData("DELETE FROM nope", SqlState.UndefinedTable)]
    [InlineData("DELETE FROM other.events", SqlState.UndefinedTable)]
    [InlineData("UPDATE events SET level = 'a', LEVEL = 'b'", SqlState.DuplicateColumn)]
    [InlineData("UPDATE events SET level = 'a' WHERE", SqlState.SyntaxError)]
    [InlineData("UPDATE events SET level = WHERE x", SqlState.SyntaxError)]
    [InlineData("DELETE events WHERE a = 1", SqlState.SyntaxError)]
    [InlineData("DELETE FROM events; DELETE FROM events", SqlState.SyntaxError)]
    [InlineData("DELETE FROM events WHERE level = 'x' RETURNING *", SqlState.FeatureNotSupported)]
    [InlineData("DELETE FROM events USING otel_logs_and_spans o WHERE events.trace_id = o.id", SqlState.FeatureNotSupported)]
    [InlineData("UPDATE events SET level = o.level FROM otel_logs_and_spans o WHERE events.trace_id = o.id", SqlState.FeatureNotSupported)]
    [InlineData("UPDATE events SET (level, service) = ('a', 'b')", SqlState.FeatureNotSupported)]
    [InlineData("DELETE FROM events WHERE trace_id IN (SELECT id FROM otel_logs_and_spans)", SqlState.FeatureNotSupported)]
    [InlineData("UPDATE events SET trace_id = gen_random_uuid()::VARCHAR", SqlState.FeatureNotSupported)]
    [InlineData("DELETE FROM events WHERE random() < 0.5", SqlState.FeatureNotSupported)]
    [InlineData("UPDATE events SET project_id = 'p2'", SqlState.FeatureNotSupported)]
    [InlineData("UPDATE events SET timestamp = now()", SqlState.FeatureNotSupported)]
    [InlineData("UPDATE events SET date = current_date", SqlState.FeatureNotSupported)]
    [InlineData("UPDATE events SET duration = sum(duration)", SqlState.GroupingError)]
    [InlineData("WITH x AS (SELECT 1) DELETE FROM events", SqlState.FeatureNotSupported)]
    [InlineData("DELETE FROM events WHERE level = $1", SqlState.FeatureNotSupported)]
    [InlineData("SELECT 1", SqlState.FeatureNotSupported)]
    [InlineData("UPDATE events SET level = current_setting('threads')", SqlState.InsufficientPrivilege)]
    public void RefusesWithTheRightSqlState(string sql, string state)
    {
        var e = Assert.Throws<SqlPlanningException>(() => Plan(sql));
        Assert.True(state == e.SqlState, $"{sql}: {e.SqlState} {e.Message}");
    }

    [Fact]
    public void InsertValuesWithColumnsAndProjects()
    {
        var plan = f.Dml.AnalyzeInsert("""
            INSERT INTO public.events (timestamp, service, level, project_id, tags)
            VALUES ('2024-05-17 10:00:00', 'a,b', 'it''s (x)', 'p2', ['x', 'y']),
                   (now(), $$c);d$$, NULL, 'p1', [])
            """, TestCatalog.Standard(), User);
        Assert.Equal("events", plan.Table.Name);
        Assert.Equal(["timestamp", "service", "level", "project_id", "tags"], plan.Columns);
        Assert.Equal(2, plan.RowCount);
        Assert.Equal(["p1", "p2"], plan.Projects);
        Assert.Null(plan.DefaultProject);
        using var db = Database();
        var rows = Rows(db, plan.ValuesSql);
        Assert.Equal(2, rows.Count);
        Assert.Equal("a,b|it's (x)|p2", string.Join("|", rows[0][1], rows[0][2], rows[0][3]));
        Assert.Equal("c);d||p1", string.Join("|", rows[1][1], rows[1][2], rows[1][3]));
        Assert.StartsWith("05/17/2024 12:30:45", rows[1][0]); // now() became the planning instant
        Assert.StartsWith("05/17/2024 10:00:00", rows[0][0]);
    }

    [Fact]
    public void InsertWithoutProjectIdGoesToTheDefaultProject()
    {
        // Positional values fill the declared columns: the partition column date is derived, never positional.
        var plan = f.Dml.AnalyzeInsert("INSERT INTO events VALUES ('2024-05-17 10:00:00+00', 'svc')", TestCatalog.Standard(), User);
        Assert.Equal(["timestamp", "service"], plan.Columns);
        Assert.Equal("p1", plan.DefaultProject);
        Assert.Equal(["p1"], plan.Projects);
        Assert.Equal(SqlState.InsufficientPrivilege, Assert.Throws<SqlPlanningException>(() =>
            f.Dml.AnalyzeInsert("INSERT INTO events (service) VALUES ('x')", TestCatalog.Standard(), CallerScope.User(null, ["p1"]))).SqlState);
    }

    [Fact]
    public void InsertWithComputedProjectLeavesTheCheckToTheExecutor()
    {
        var plan = f.Dml.AnalyzeInsert("INSERT INTO events (service, project_id) VALUES ('x', 'p' || '3')", TestCatalog.Standard(), User);
        Assert.Null(plan.Projects);
    }

    [Theory]
    [InlineData("INSERT INTO events (service, project_id) VALUES ('x', 'p3')", SqlState.InsufficientPrivilege)]
    [InlineData("INSERT INTO events (nope) VALUES (1)", SqlState.UndefinedColumn)]
    [InlineData("INSERT INTO events (service, SERVICE) VALUES (1, 2)", SqlState.DuplicateColumn)]
    [InlineData("INSERT INTO events (service) VALUES (1, 2)", SqlState.SyntaxError)]
    [InlineData("INSERT INTO events (service, level) VALUES (1)", SqlState.SyntaxError)]
    [InlineData("INSERT INTO events (service) VALUES (level)", SqlState.UndefinedColumn)]
    [InlineData("INSERT INTO events (service) VALUES ((SELECT 'x'))", SqlState.FeatureNotSupported)]
    [InlineData("INSERT INTO events (service) SELECT service FROM events", SqlState.FeatureNotSupported)]
    [InlineData("INSERT INTO events (service) VALUES ('x') ON CONFLICT DO NOTHING", SqlState.FeatureNotSupported)]
    [InlineData("INSERT INTO events (service) VALUES ('x') RETURNING *", SqlState.FeatureNotSupported)]
    [InlineData("INSERT OR REPLACE INTO events (service) VALUES ('x')", SqlState.FeatureNotSupported)]
    [InlineData("INSERT INTO nope VALUES (1)", SqlState.UndefinedTable)]
    [InlineData("INSERT INTO events (service) VALUES ('x'", SqlState.SyntaxError)]
    public void InsertRefusals(string sql, string state)
    {
        var e = Assert.Throws<SqlPlanningException>(() => f.Dml.AnalyzeInsert(sql, TestCatalog.Standard(), User));
        Assert.True(state == e.SqlState, $"{sql}: {e.SqlState} {e.Message}");
    }

    private static DuckDBConnection Database()
    {
        var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        Execute(c, "SET TimeZone = 'UTC'");
        Execute(c, $"CREATE TABLE events ({TestCatalog.EventsSchema.ToDuckDbColumns()})");
        Execute(c, """
            INSERT INTO events SELECT DATE '2024-05-17', TIMESTAMPTZ '2024-05-17 00:00:00+00' + to_minutes(i * 7),
              ['api', 'web', 'db'][i % 3 + 1], CASE WHEN i % 5 = 0 THEN NULL ELSE ['debug', 'info', 'error'][i % 3 + 1] END,
              i * 97 % 3000, [200, 500, 503][i % 3 + 1], i / 3.0, i % 2 = 0,
              '{"http.method":"' || ['GET', 'POST'][i % 2 + 1] || '"}', CASE WHEN i = 7 THEN 'it''s WHERE' ELSE 't' || i END, ['a'], 'p1'
            FROM range(120) r(i)
            """);
        return c;
    }

    private static void Execute(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static List<string[]> Rows(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT * FROM ({sql}) q";
        using var reader = cmd.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
        {
            var row = new string[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i) is System.Collections.IEnumerable e and not string
                    ? string.Join(",", e.Cast<object>()) : reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture) ?? "";
            rows.Add(row);
        }
        return rows;
    }
}
