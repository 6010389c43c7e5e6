using TimeFusion.Query.Planning;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Query.Planning;

[Collection(PlanningCollection.Name)]
public sealed class ProjectScopeTests(PlanningFixture f)
{
    private static readonly CallerScope User = CallerScope.User("p1", ["p1", "p2", "p3"]);

    private QueryPlan Plan(string sql, CallerScope? caller = null) => f.Analyzer.Analyze(sql, TestCatalog.Standard(), caller ?? User);

    private static string[] Projects(QueryPlan plan, int scan = 0) => [.. plan.Scans[scan].Projects];

    [Theory]
    [InlineData("SELECT * FROM events WHERE project_id = 'p2'", new[] { "p2" })]
    [InlineData("SELECT * FROM events WHERE 'p2' = project_id", new[] { "p2" })]
    [InlineData("SELECT * FROM events WHERE project_id IN ('p3', 'p2')", new[] { "p2", "p3" })]
    [InlineData("SELECT * FROM events e WHERE e.project_id = 'p3'", new[] { "p3" })]
    [InlineData("SELECT * FROM events AS e WHERE E.PROJECT_ID = 'p3'", new[] { "p3" })]
    [InlineData("SELECT * FROM events WHERE events.project_id = 'p3'", new[] { "p3" })]
    [InlineData("SELECT * FROM events WHERE level = 'x' AND (status = 1 AND (project_id IN ('p2', 'p3') AND duration > 5))", new[] { "p2", "p3" })]
    [InlineData("SELECT * FROM events WHERE project_id IN ('p1', 'p2', 'p3') AND project_id IN ('p2', 'p3') AND project_id = 'p3'", new[] { "p3" })]
    [InlineData("SELECT * FROM events WHERE project_id = 'p1' AND project_id = 'p2'", new string[0])]
    public void ProjectsComeFromTheWhereClause(string sql, string[] expected)
    {
        var plan = Plan(sql);
        Assert.Equal(expected, Projects(plan));
        Assert.Equal(ProjectSource.Predicate, plan.Scans[0].ProjectSource);
    }

    [Theory]
    [InlineData("SELECT * FROM events WHERE project_id = 'p2' OR level = 'error'")]
    [InlineData("SELECT * FROM events WHERE project_id >= 'p2'")]
    [InlineData("SELECT * FROM events WHERE project_id = 'p2' IS NOT FALSE")]
    [InlineData("SELECT * FROM events WHERE project_id LIKE 'p2'")]
    [InlineData("SELECT * FROM events WHERE upper(project_id) = 'P2'")]
    [InlineData("SELECT * FROM events WHERE project_id IN ('p2', level)")]
    [InlineData("SELECT * FROM events")]
    public void ConditionsThatDoNotConfineTheProjectReachEveryReadableProject(string sql)
    {
        // Row-level security: every project the caller may read (and the table has), never only the default one.
        var plan = Plan(sql);
        Assert.Equal(["p1", "p2", "p3"], Projects(plan));
        Assert.Equal(ProjectSource.AllProjects, plan.Scans[0].ProjectSource);
        Assert.Equal(["p1"], Projects(Plan(sql, CallerScope.User("p1", ["p1"]))));
        // A readable project the table has no rows for is not reached.
        Assert.Equal(["p2"], Projects(Plan(sql, CallerScope.User(null, ["p2", "p9"]))));
    }

    [Fact]
    public void AForbiddenProjectIsRefused()
    {
        var caller = CallerScope.User("p1", ["p1", "p2"]);
        var e = Assert.Throws<SqlPlanningException>(() => Plan("SELECT count(*) FROM events WHERE project_id = 'p3'", caller));
        Assert.Equal(SqlState.InsufficientPrivilege, e.SqlState);
        Assert.Contains("p3", e.Message);
        e = Assert.Throws<SqlPlanningException>(() => Plan("SELECT count(*) FROM events WHERE project_id IN ('p1', 'p3')", caller));
        Assert.Equal(SqlState.InsufficientPrivilege, e.SqlState);
        // A forbidden project in a subquery, a CTE or a join is refused just the same.
        foreach (var sql in new[]
        {
            "SELECT * FROM events WHERE trace_id IN (SELECT trace_id FROM events WHERE project_id = 'p3')",
            "WITH x AS (SELECT * FROM events WHERE project_id = 'p3') SELECT * FROM x",
            "SELECT * FROM events a JOIN events b ON a.trace_id = b.trace_id AND b.project_id = 'p3'",
            "SELECT * FROM (SELECT * FROM events WHERE project_id = 'p3') s",
        })
        {
            Assert.Equal(SqlState.InsufficientPrivilege, Assert.Throws<SqlPlanningException>(() => Plan(sql, caller)).SqlState);
        }
    }

    [Fact]
    public void AUserWithoutDefaultReachesTheProjectsItMayRead()
    {
        var caller = CallerScope.User(null, ["p1", "p2"]);
        Assert.Equal(["p1", "p2"], Projects(Plan("SELECT count(*) FROM events", caller)));
        Assert.Empty(Projects(Plan("SELECT count(*) FROM events", CallerScope.User(null, ["p9"]))));
        // The same caller may name its projects.
        Assert.Equal(["p1", "p2"], Projects(Plan("SELECT count(*) FROM events WHERE project_id IN ('p1', 'p2')", caller)));
    }

    [Fact]
    public void AnAdminReachesEveryProjectOfTheTable()
    {
        var catalog = new TestCatalog().Add(TestCatalog.EventsSchema, "b", "a", "c");
        var plan = f.Analyzer.Analyze("SELECT count(*) FROM events", catalog, CallerScope.Admin());
        Assert.Equal(["a", "b", "c"], plan.Scans[0].Projects);
        Assert.Equal(ProjectSource.AllProjects, plan.Scans[0].ProjectSource);
        // An admin may name any project, and an admin with a default project gets it.
        Assert.Equal(["zzz"], f.Analyzer.Analyze("SELECT 1 FROM events WHERE project_id = 'zzz'", catalog, CallerScope.Admin()).Scans[0].Projects);
        // A default project does not narrow an admin's reads: that is for writes without project_id.
        Assert.Equal(["a", "b", "c"], f.Analyzer.Analyze("SELECT 1 FROM events", catalog, CallerScope.Admin("b")).Scans[0].Projects);
    }

    [Fact]
    public void EachTableReferenceHasItsOwnScope()
    {
        var plan = Plan("""
            SELECT * FROM events a
            JOIN events b ON a.trace_id = b.trace_id AND b.project_id = 'p2'
            JOIN otel_logs_and_spans o ON o.context___trace_id = a.trace_id
            WHERE a.project_id IN ('p2', 'p3') AND o.project_id = 'p3'
              AND a.trace_id IN (SELECT trace_id FROM events WHERE project_id = 'p3')
            """);
        Assert.Equal(PlanKind.RowShipping, plan.Kind);
        Assert.Equal(4, plan.Scans.Count);
        Assert.Equal(["p2", "p3"], Projects(plan, 0));
        Assert.Equal(["p2"], Projects(plan, 1));
        Assert.Equal(["p3"], Projects(plan, 2));
        Assert.Equal("otel_logs_and_spans", plan.Scans[2].Table.Name);
        Assert.Equal(["p3"], Projects(plan, 3));
    }

    [Fact]
    public void OuterJoinsOnlyNarrowTheSideTheyFilter()
    {
        // LEFT JOIN: the ON condition narrows the right side only; WHERE on the right side still confines it (NULL = 'x' is not true).
        var plan = Plan("SELECT * FROM events a LEFT JOIN events b ON a.trace_id = b.trace_id AND a.project_id = 'p2' WHERE b.project_id = 'p3'");
        Assert.Equal(["p1", "p2", "p3"], Projects(plan, 0));
        Assert.Equal(["p3"], Projects(plan, 1));
        // …but a general WHERE condition on the null-supplying side is not pushed into its scan (b.level IS NULL keeps unmatched rows).
        plan = Plan("SELECT * FROM events a LEFT JOIN events b ON a.trace_id = b.trace_id AND b.project_id = 'p2' WHERE b.level IS NULL AND a.project_id = 'p3'");
        Assert.Equal(["p3"], Projects(plan, 0));
        Assert.Equal(["p2"], Projects(plan, 1));
        Assert.Equal("(project_id = 'p2')", plan.Scans[1].PushedPredicate);
        Assert.DoesNotContain("IS NULL", plan.Scans[1].ScanSql);
    }

    [Fact]
    public void AScopeOnADerivedTableDoesNotReachTheTableInside()
    {
        var plan = Plan("SELECT * FROM (SELECT * FROM events) s WHERE s.project_id = 'p2'");
        Assert.Equal(["p1", "p2", "p3"], Projects(plan));
    }

    [Fact]
    public void SameProjectEverywhereRunsWholeOnOneGrain()
    {
        var plan = Plan("SELECT * FROM events a JOIN events b USING (trace_id) WHERE a.trace_id IN (SELECT trace_id FROM events)",
            CallerScope.User("p1", ["p1"]));
        Assert.Equal(PlanKind.SingleGrain, plan.Kind);
        Assert.Equal(3, plan.Scans.Count);
        Assert.Equal(plan.Sql, plan.GrainSql);
        Assert.Null(plan.MergeSql);
        // Two tables in the same project are two grains.
        plan = Plan("SELECT * FROM events e JOIN otel_logs_and_spans o ON o.id = e.trace_id");
        Assert.Equal(PlanKind.RowShipping, plan.Kind);
    }

    [Theory]
    [InlineData("SELECT * FROM nope", "nope")]
    [InlineData("SELECT * FROM events JOIN nope ON true", "nope")]
    [InlineData("SELECT * FROM events WHERE trace_id IN (SELECT x FROM nope)", "nope")]
    [InlineData("WITH x AS (SELECT * FROM nope) SELECT * FROM x", "nope")]
    [InlineData("SELECT * FROM other.events", "other.events")]
    [InlineData("SELECT * FROM pg_catalog.pg_class", "pg_catalog.pg_class")]
    [InlineData("SELECT * FROM 'file.parquet'", "file.parquet")]
    [InlineData("SELECT * FROM x.main.events", "x.main.events")]
    public void UnknownTablesAre42P01(string sql, string name)
    {
        var e = Assert.Throws<SqlPlanningException>(() => Plan(sql));
        Assert.Equal(SqlState.UndefinedTable, e.SqlState);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void CteNamesAreNotTablesButOnlyWhereTheyAreInScope()
    {
        var plan = Plan("WITH events AS (SELECT 1 AS x) SELECT * FROM events");
        Assert.Equal(PlanKind.GatewayOnly, plan.Kind);
        Assert.Empty(plan.Scans);
        // A CTE defined inside a subquery is not visible outside it: the outer "x" is a table.
        Assert.Equal(SqlState.UndefinedTable, Assert.Throws<SqlPlanningException>(() =>
            Plan("SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x")).SqlState);
        // A CTE that names a catalog table hides it; inside its own (non-recursive) body the name is the table.
        plan = Plan("WITH events AS (SELECT * FROM events WHERE level = 'error') SELECT count(*) FROM events");
        Assert.Single(plan.Scans);
        // Recursive CTEs see themselves.
        plan = Plan("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r JOIN events ON true");
        Assert.Single(plan.Scans);
    }

    [Fact]
    public void TableNamesResolveCaseInsensitivelyAndThroughPlainSchemas()
    {
        foreach (var sql in new[] { "SELECT * FROM EVENTS", "SELECT * FROM public.events", "SELECT * FROM main.Events", "SELECT * FROM \"Events\"" })
        {
            var plan = Plan(sql);
            Assert.Equal("events", plan.Scans[0].Table.Name);
            Assert.Contains("FROM events", plan.Sql);
        }
    }

    [Theory]
    [InlineData("SELECT nope FROM events", SqlState.UndefinedColumn)]
    [InlineData("SELECT e.nope FROM events e", SqlState.UndefinedColumn)]
    [InlineData("SELECT * FROM events WHERE nope = 1", SqlState.UndefinedColumn)]
    [InlineData("SELECT x.service FROM events e", SqlState.UndefinedTable)]
    [InlineData("SELECT service, count(*) FROM events", SqlState.GroupingError)]
    [InlineData("SELECT nosuchfunction(service) FROM events", SqlState.UndefinedFunction)]
    [InlineData("SELECT trace_id FROM events a, events b", SqlState.AmbiguousColumn)]
    public void BinderErrorsCarryTheirSqlState(string sql, string state)
    {
        Assert.Equal(state, Assert.Throws<SqlPlanningException>(() => Plan(sql)).SqlState);
    }

    [Theory]
    [InlineData("SELECT * FROM read_parquet('/etc/passwd')")]
    [InlineData("SELECT * FROM read_csv('x.csv')")]
    [InlineData("SELECT * FROM duckdb_tables()")]
    [InlineData("SELECT * FROM query('SELECT 1')")]
    [InlineData("SELECT * FROM events WHERE trace_id IN (SELECT * FROM glob('*'))")]
    public void TableFunctionsThatReadFilesOrEngineStateAreRefused(string sql)
    {
        Assert.Equal(SqlState.InsufficientPrivilege, Assert.Throws<SqlPlanningException>(() => Plan(sql)).SqlState);
    }

    [Theory]
    [InlineData("SELECT current_setting('temp_directory')")]
    [InlineData("SELECT service FROM events WHERE sleep_ms(1000) IS NULL")]
    [InlineData("SELECT getvariable('x') FROM events")]
    public void FunctionsThatReadEngineStateOrStallAreRefused(string sql)
    {
        Assert.Equal(SqlState.InsufficientPrivilege, Assert.Throws<SqlPlanningException>(() => Plan(sql)).SqlState);
    }

    [Fact]
    public void HarmlessTableFunctionsAndValuesAreAllowed()
    {
        var plan = Plan("SELECT r.range, e.service FROM range(3) r, (VALUES (1)) v(x), events e WHERE e.project_id = 'p2'");
        Assert.Equal(["p2"], Projects(plan));
        Assert.Equal(PlanKind.SingleGrain, plan.Kind);
    }

    [Fact]
    public void TimeTravelIsNotSupported()
    {
        Assert.Equal(SqlState.FeatureNotSupported, Assert.Throws<SqlPlanningException>(() => Plan("SELECT * FROM events AT (VERSION => 1)")).SqlState);
    }

    [Fact]
    public void ParametersAreSubstitutedAsLiterals()
    {
        var plan = f.Analyzer.Analyze("SELECT count(*) FROM events WHERE project_id = $1 AND timestamp >= $2 AND level = ?",
            TestCatalog.Standard(), User, ["'p2'", "TIMESTAMPTZ '2024-01-01 00:00:00+00'", "'it''s'"]);
        Assert.Equal(["p2"], Projects(plan));
        Assert.Equal(1704067200000000L, plan.Scans[0].Time.MinMicros);
        Assert.Contains("'it''s'", plan.Sql);
        Assert.Equal(SqlState.FeatureNotSupported, Assert.Throws<SqlPlanningException>(() => Plan("SELECT $1")).SqlState);
        Assert.Equal(SqlState.SyntaxError, Assert.Throws<SqlPlanningException>(() =>
            f.Analyzer.Analyze("SELECT $1", TestCatalog.Standard(), User, ["service"])).SqlState);
        Assert.Equal(SqlState.SyntaxError, Assert.Throws<SqlPlanningException>(() =>
            f.Analyzer.Analyze("SELECT $2", TestCatalog.Standard(), User, ["1"])).SqlState);
        Assert.Equal(SqlState.SyntaxError, Assert.Throws<SqlPlanningException>(() =>
            f.Analyzer.Analyze("SELECT $1", TestCatalog.Standard(), User, ["1) FROM x; SELECT (1"])).SqlState);
    }

    [Fact]
    public void ClockReadsBecomeThePlanningInstantAndKeepTheirColumnNames()
    {
        var plan = Plan("SELECT now(), current_timestamp, current_date, today(), now() AS n, service FROM events LIMIT 1");
        Assert.Equal(["now", "current_timestamp", "current_date", "today", "n", "service"], plan.OutputColumns);
        Assert.DoesNotContain("now()", plan.Sql.Replace("AS \"now()\"", ""));
        Assert.Contains("'2024-05-17 12:30:45.123000+00'", plan.Sql);
        Assert.Contains("'2024-05-17'", plan.Sql);
        Assert.Equal(PlanningFixture.Now, plan.Now);
    }

    [Fact]
    public void OutputColumnsArePostgresNames()
    {
        var plan = Plan("SELECT service, count(*), sum(duration) AS total, e.level FROM events e GROUP BY ALL");
        Assert.Equal(["service", "count", "total", "level"], plan.OutputColumns);
    }

    [Fact]
    public void UnaliasedExpressionsAreNamedLikePostgresAndRepeatsKeepDistinctNames()
    {
        var plan = Plan("SELECT count(*), count(level), max(duration)::INTEGER, 1 + 1, CASE WHEN level = 'x' THEN 1 END, "
            + "'a'::VARCHAR, duration::BIGINT, date_trunc('hour', timestamp) FROM events GROUP BY duration, timestamp, level");
        Assert.Equal(["count", "count(\"level\")", "max", "?column?", "case", "text", "duration", "date_trunc"], plan.OutputColumns);
    }
}
