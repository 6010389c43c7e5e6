using TimeFusion.Grains;
using TimeFusion.Query.Planning;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Query.Planning;

[Collection(PlanningCollection.Name)]
public sealed class StatementClassifierTests(PlanningFixture f)
{
    [Theory]
    [InlineData("SELECT 1", StatementKind.Select, "SELECT")]
    [InlineData("select count(*) from events where level = 'error'", StatementKind.Select, "SELECT")]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x", StatementKind.Select, "WITH")]
    [InlineData("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r", StatementKind.Select, "WITH")]
    [InlineData("(SELECT 1) UNION ALL (SELECT 2)", StatementKind.Select, "(")]
    [InlineData("SELECT a FROM t UNION SELECT b FROM u EXCEPT SELECT c FROM v", StatementKind.Select, "SELECT")]
    [InlineData("VALUES (1, 'a'), (2, 'b')", StatementKind.Select, "VALUES")]
    [InlineData("FROM events", StatementKind.Select, "FROM")]
    [InlineData("TABLE events", StatementKind.Select, "TABLE")]
    [InlineData("INSERT INTO events (service) VALUES ('a')", StatementKind.Insert, "INSERT")]
    [InlineData("UPDATE events SET level = 'x' WHERE service = 'api'", StatementKind.Update, "UPDATE")]
    [InlineData("DELETE FROM events WHERE level = 'debug'", StatementKind.Delete, "DELETE")]
    [InlineData("WITH old AS (SELECT 1) DELETE FROM events", StatementKind.Delete, "WITH")]
    [InlineData("CREATE TABLE metrics (name VARCHAR, value DOUBLE)", StatementKind.CreateTable, "CREATE")]
    [InlineData("CREATE TABLE IF NOT EXISTS metrics (name VARCHAR)", StatementKind.CreateTable, "CREATE")]
    [InlineData("create or replace temp table m (a int)", StatementKind.CreateTable, "CREATE")]
    [InlineData("CREATE VIEW v AS SELECT 1", StatementKind.Other, "CREATE")]
    [InlineData("CREATE INDEX i ON events (service)", StatementKind.Other, "CREATE")]
    [InlineData("DROP TABLE events", StatementKind.Other, "DROP")]
    [InlineData("ALTER TABLE events ADD COLUMN x INT", StatementKind.Other, "ALTER")]
    [InlineData("EXPLAIN SELECT 1", StatementKind.Other, "EXPLAIN")]
    [InlineData("PRAGMA version", StatementKind.Other, "PRAGMA")]
    [InlineData("ATTACH 'x.db' AS x", StatementKind.Other, "ATTACH")]
    [InlineData("COPY events FROM STDIN", StatementKind.Copy, "COPY")]
    [InlineData("SET client_encoding = 'UTF8'", StatementKind.Utility, "SET")]
    [InlineData("SET extra_float_digits TO 3", StatementKind.Utility, "SET")]
    [InlineData("RESET ALL", StatementKind.Utility, "RESET")]
    [InlineData("SHOW TRANSACTION ISOLATION LEVEL", StatementKind.Utility, "SHOW")]
    [InlineData("SHOW TABLES", StatementKind.Utility, "SHOW")]
    [InlineData("BEGIN ISOLATION LEVEL READ COMMITTED", StatementKind.Utility, "BEGIN")]
    [InlineData("START TRANSACTION", StatementKind.Utility, "START")]
    [InlineData("COMMIT", StatementKind.Utility, "COMMIT")]
    [InlineData("ROLLBACK", StatementKind.Utility, "ROLLBACK")]
    [InlineData("DISCARD ALL", StatementKind.Utility, "DISCARD")]
    [InlineData("DEALLOCATE ALL", StatementKind.Utility, "DEALLOCATE")]
    [InlineData("DESCRIBE events", StatementKind.Utility, "DESCRIBE")]
    public void ClassifiesOneStatement(string sql, StatementKind kind, string keyword)
    {
        var statements = f.Classifier.Classify(sql);
        var s = Assert.Single(statements);
        Assert.Equal(kind, s.Kind);
        Assert.Equal(keyword, s.Keyword);
        Assert.Equal(sql, s.Sql);
    }

    [Theory]
    [InlineData("FLUSH", null)]
    [InlineData("flush", null)]
    [InlineData("FLUSH events", "events")]
    [InlineData("FLUSH TABLE events", "events")]
    [InlineData("FLUSH public.otel_logs_and_spans", "otel_logs_and_spans")]
    [InlineData("FLUSH \"My \"\"Table\"", "My \"Table")]
    public void RecognisesFlush(string sql, string? table)
    {
        var s = Assert.Single(f.Classifier.Classify(sql + ";"));
        Assert.Equal(StatementKind.Flush, s.Kind);
        Assert.Equal(table, s.FlushTable);
    }

    [Theory]
    [InlineData("FLUSH events now")]
    [InlineData("FLUSH events.")]
    [InlineData("FLUSH 'events'")]
    public void RejectsMalformedFlush(string sql)
    {
        var e = Assert.Throws<SqlPlanningException>(() => f.Classifier.Classify(sql));
        Assert.Equal(SqlState.SyntaxError, e.SqlState);
    }

    [Fact]
    public void SplitsMultiStatementStringsOutsideQuotesAndComments()
    {
        const string sql = """
            SELECT 'a;b' AS "x;y"; -- a comment; with a semicolon
            INSERT INTO events (service) VALUES ('it''s; fine');
            /* block; comment /* nested; */ still; */ UPDATE events SET level = $$;$$ WHERE service = E'\';';
            SET search_path = 'x';;
            FLUSH events;
            DELETE FROM events WHERE trace_id = $tag$ ; $tag$
            """;
        var statements = f.Classifier.Classify(sql);
        Assert.Equal(
            [StatementKind.Select, StatementKind.Insert, StatementKind.Update, StatementKind.Utility, StatementKind.Flush, StatementKind.Delete],
            statements.Select(s => s.Kind));
        Assert.Equal("SELECT 'a;b' AS \"x;y\"", statements[0].Sql);
        Assert.Equal("INSERT INTO events (service) VALUES ('it''s; fine')", statements[1].Sql);
        Assert.Equal("UPDATE events SET level = $$;$$ WHERE service = E'\\';'", statements[2].Sql);
        Assert.Equal("DELETE FROM events WHERE trace_id = $tag$ ; $tag$", statements[5].Sql);
    }

    [Fact]
    public void EmptyStringsAndLoneSemicolonsYieldNoStatements()
    {
        Assert.Empty(f.Classifier.Classify(""));
        Assert.Empty(f.Classifier.Classify(" ;; -- nothing\n ; /* x */"));
    }

    [Theory]
    [InlineData("SELEC 1", "SELEC")]
    [InlineData("SELECT * FROM events WHERE", "end of input")]
    [InlineData("SELECT (1", "end of input")]
    [InlineData("WITH x AS (SELECT 1) SELEC * FROM x", "SELEC")]
    [InlineData("UPDATE events SET WHERE a = 1", "WHERE")]
    [InlineData("DELETE events", "events")]
    [InlineData("INSERT INTO events VALUES (1,", "end of input")]
    [InlineData("CREATE TABLE t (a INT", "end of input")]
    public void SyntaxErrorsCarry42601AndDuckDbsMessage(string sql, string near)
    {
        var e = Assert.Throws<SqlPlanningException>(() => f.Classifier.Classify(sql));
        Assert.Equal(SqlState.SyntaxError, e.SqlState);
        Assert.Contains(near, e.Message);
    }

    [Theory]
    [InlineData("SELECT 'unterminated")]
    [InlineData("SELECT \"unterminated")]
    [InlineData("SELECT 1 /* unterminated")]
    [InlineData("SELECT $$ unterminated")]
    public void UnterminatedLiteralsAreSyntaxErrors(string sql)
    {
        var e = Assert.Throws<SqlPlanningException>(() => f.Classifier.Classify(sql));
        Assert.Equal(SqlState.SyntaxError, e.SqlState);
    }

    [Fact]
    public void ASyntaxErrorInALaterStatementRejectsTheWholeString()
    {
        var e = Assert.Throws<SqlPlanningException>(() => f.Classifier.Classify("SELECT 1; SELECT 2; SELEC 3"));
        Assert.Equal(SqlState.SyntaxError, e.SqlState);
        Assert.Contains("SELEC", e.Message);
    }

    [Fact]
    public void ClassifiesConcurrently()
    {
        var results = new System.Collections.Concurrent.ConcurrentBag<StatementKind>();
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var sql = (i % 3) switch
            {
                0 => $"SELECT {i}",
                1 => $"DELETE FROM events WHERE duration = {i}",
                _ => "SET x = 1",
            };
            results.Add(Assert.Single(f.Classifier.Classify(sql)).Kind);
        });
        Assert.Equal(67, results.Count(k => k == StatementKind.Select));
        Assert.Equal(67, results.Count(k => k == StatementKind.Delete));
        Assert.Equal(66, results.Count(k => k == StatementKind.Utility));
    }
}
