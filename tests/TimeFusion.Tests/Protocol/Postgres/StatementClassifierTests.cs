using TimeFusion.Silo.Protocol.Postgres.Sql;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>The protocol's own statements (SET, SHOW, COPY, …) read with the shared lexer.</summary>
public sealed class StatementClassifierTests
{
    [Fact]
    public void Classifies_copy_statements_in_both_option_syntaxes()
    {
        var a = StatementClassifier.Classify("COPY public.\"Logs\" (id, \"Name\") FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';', NULL 'NA', QUOTE '''', FORCE_NOT_NULL (id))");
        Assert.Equal(StatementKind.CopyFromStdin, a.Kind);
        var copy = a.Copy!;
        Assert.Equal("public.\"Logs\"", copy.Table);
        Assert.Equal(["id", "Name"], copy.Columns);
        Assert.Equal(CopyFormat.Csv, copy.Format);
        Assert.True(copy.Header);
        Assert.Equal(';', copy.DelimiterChar);
        Assert.Equal("NA", copy.NullString);
        Assert.Equal('\'', copy.QuoteChar);
        Assert.Equal(["id"], copy.ForceNotNull);

        var legacy = StatementClassifier.Classify("copy t from stdin with csv header delimiter as '|' null as ''");
        Assert.Equal(CopyFormat.Csv, legacy.Copy!.Format);
        Assert.True(legacy.Copy.Header);
        Assert.Equal('|', legacy.Copy.DelimiterChar);

        Assert.Equal(CopyFormat.Binary, StatementClassifier.Classify("COPY t FROM STDIN (FORMAT BINARY)").Copy!.Format);
        Assert.Equal(CopyFormat.Binary, StatementClassifier.Classify("COPY BINARY t FROM STDIN").Copy!.Format);
        Assert.Equal('\t', StatementClassifier.Classify("COPY t FROM STDIN").Copy!.DelimiterChar);

        var output = StatementClassifier.Classify("COPY (SELECT a, (b + 1) FROM t WHERE c = ')') TO STDOUT WITH CSV");
        Assert.Equal(StatementKind.CopyToStdout, output.Kind);
        Assert.Equal("SELECT a, (b + 1) FROM t WHERE c = ')'", output.Copy!.Query);

        // Server-side files and programs are not the protocol layer's business.
        Assert.Equal(StatementKind.Other, StatementClassifier.Classify("COPY t FROM '/etc/passwd'").Kind);
        Assert.Throws<TimeFusion.Silo.Protocol.Postgres.PostgresErrorException>(() => StatementClassifier.Classify("COPY t FROM STDIN (FORMAT binary, DELIMITER ',')"));
    }

    [Theory]
    [InlineData("insert INTO t VALUES (1)", "INSERT")]
    [InlineData("(SELECT 1) UNION (SELECT 2)", "(")]
    [InlineData("\"quoted\"", "")]
    [InlineData("E'x'", "")]
    public void Reads_the_first_keyword_once_for_the_backend(string sql, string keyword)
    {
        var s = StatementClassifier.Classify(sql);
        Assert.Equal(StatementKind.Other, s.Kind);
        Assert.Equal(new TimeFusion.Silo.Protocol.Postgres.BackendStatement(sql, keyword), s.Backend);
        Assert.Equal(keyword, StatementClassifier.FirstKeyword("  /* c */ " + sql));
    }

    [Theory]
    [InlineData("SET statement_timeout = 5000", "Set", "statement_timeout", "5000")]
    [InlineData("SET SESSION statement_timeout TO '5s'", "Set", "statement_timeout", "5s")]
    [InlineData("set application_name = 'my app'", "Set", "application_name", "my app")]
    [InlineData("SET TIME ZONE 'Europe/Paris'", "Set", "timezone", "Europe/Paris")]
    [InlineData("SET search_path TO public, \"My Schema\"", "Set", "search_path", "public, My Schema")]
    [InlineData("SET extra_float_digits = -3", "Set", "extra_float_digits", "-3")]
    [InlineData("SET statement_timeout TO DEFAULT", "Set", "statement_timeout", null)]
    [InlineData("SHOW ALL", "Show", "all", null)]
    [InlineData("show TimeZone", "Show", "timezone", null)]
    [InlineData("RESET ALL", "Reset", "all", null)]
    [InlineData("DISCARD ALL", "DiscardAll", null, null)]
    [InlineData("DEALLOCATE PREPARE s1", "Deallocate", "s1", null)]
    [InlineData("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "Other", null, null)]
    [InlineData("SELECT 1", "Other", null, null)]
    public void Classifies_session_statements(string sql, string kind, string? name, string? value)
    {
        var s = StatementClassifier.Classify(sql);
        Assert.Equal(kind, s.Kind.ToString());
        Assert.Equal(name, s.Name);
        Assert.Equal(value, s.Value);
    }
}
