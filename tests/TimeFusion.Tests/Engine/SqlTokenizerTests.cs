using TimeFusion.Sql;
using TimeFusion.Query.Planning;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Engine;

public sealed class SqlTokenizerTests
{
    [Theory]
    [InlineData("SELECT 1", new[] { "SELECT 1" })]
    [InlineData("SELECT 1; SELECT 2;", new[] { "SELECT 1", "SELECT 2" })]
    [InlineData(" ; ;; ", new string[0])]
    [InlineData("SELECT 'a;b'; SELECT 'it''s;'", new[] { "SELECT 'a;b'", "SELECT 'it''s;'" })]
    [InlineData("SELECT E'x\\';y'; SELECT 2", new[] { "SELECT E'x\\';y'", "SELECT 2" })]
    [InlineData("SELECT $$;$$; SELECT $fn$ a; $$ b $fn$", new[] { "SELECT $$;$$", "SELECT $fn$ a; $$ b $fn$" })]
    [InlineData("SELECT \"a;b\" FROM t; SELECT 2", new[] { "SELECT \"a;b\" FROM t", "SELECT 2" })]
    [InlineData("SELECT 1 -- comment; still comment\n; SELECT 2", new[] { "SELECT 1", "SELECT 2" })]
    [InlineData("SELECT /* a /* nested; */ b; */ 1; SELECT 2", new[] { "SELECT /* a /* nested; */ b; */ 1", "SELECT 2" })]
    [InlineData("SELECT $1, $2; SELECT 'unterminated;", new[] { "SELECT $1, $2", "SELECT 'unterminated;" })]
    public void Lenient_split_respects_quotes_and_comments_as_the_protocol_needs(string sql, string[] expected)
    {
        Assert.Equal(expected, SqlTokenizer.SplitStatements(sql, SqlTokenizerMode.Lenient));
    }

    [Fact]
    public void Reads_string_values_and_identifiers()
    {
        const string sql = "SELECT E'tab\\there\\x41\\101', 'it''s', $q$raw 'x'$q$, \"Mixed\"\"Case\", Folded";
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        Assert.Equal("tab\thereAA", tokens[1].StringValue(sql));
        Assert.Equal("it's", tokens[3].StringValue(sql));
        Assert.Equal("raw 'x'", tokens[5].StringValue(sql));
        Assert.Equal("Mixed\"Case", tokens[7].FoldedIdentifier(sql));
        Assert.Equal("folded", tokens[9].FoldedIdentifier(sql));
    }

    [Theory]
    [InlineData("SELECT 'open")]
    [InlineData("SELECT \"open")]
    [InlineData("SELECT $q$ open")]
    [InlineData("SELECT 1 /* open /* */")]
    [InlineData("SELECT E'open\\'")]
    public void Unterminated_text_throws_when_strict_and_runs_to_the_end_when_lenient(string sql)
    {
        var e = Assert.Throws<SqlSyntaxException>(() => SqlTokenizer.Tokenize(sql));
        Assert.Equal("42601", e.SqlState);
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        Assert.True(tokens[^1].End == sql.Length || sql.EndsWith("*/", StringComparison.Ordinal));
        // The unterminated part swallows the rest, semicolons included: one statement, for the backend to reject.
        Assert.StartsWith("SELECT", Assert.Single(SqlTokenizer.SplitStatements(sql + "; SELECT 2", SqlTokenizerMode.Lenient)));
    }

    [Fact]
    public void Protocol_forms_lex_as_postgresql_does()
    {
        const string sql = "SELECT U&'d\\0061t', U&\"Mi\"\"x\", $12, $name, ?, 0x1F, 5s, 2e-3, $ FROM t";
        var tokens = SqlTokenizer.Tokenize(sql);
        var texts = tokens.Select(t => t.Text(sql)).ToList();
        Assert.Equal(["SELECT", "U&'d\\0061t'", ",", "U&\"Mi\"\"x\"", ",", "$12", ",", "$name", ",", "?", ",", "0x1F", ",", "5s", ",", "2e-3", ",", "$", "FROM", "t"], texts);
        Assert.Equal(SqlTokenKind.String, tokens[1].Kind);
        Assert.Equal("d\\0061t", tokens[1].StringValue(sql));
        Assert.Equal(SqlTokenKind.QuotedIdentifier, tokens[3].Kind);
        Assert.Equal("Mi\"x", tokens[3].Identifier(sql));
        Assert.True(tokens[5].IsPositionalParameter(sql));
        Assert.Equal(SqlTokenKind.Parameter, tokens[7].Kind);
        Assert.False(tokens[7].IsPositionalParameter(sql));
        Assert.False(tokens[9].IsPositionalParameter(sql));
        Assert.Equal(SqlTokenKind.Number, tokens[13].Kind);
        Assert.Equal(SqlTokenKind.Operator, tokens[17].Kind);
        Assert.True(tokens[2].IsSymbolChar(sql, ','));
        Assert.False(tokens[0].IsEscapeString(sql));
        Assert.Equal("t", tokens[^1].FoldedIdentifier(sql));
        Assert.Null(tokens[1].FoldedIdentifier(sql));
        Assert.Null(tokens[0].StringValue(sql));
    }

    [Fact]
    public void Next_reads_one_token_at_a_time_with_the_same_positions_as_Tokenize()
    {
        const string sql = "  /* c */ INSERT INTO t VALUES ('a;b', $1); -- x";
        var position = 0;
        var read = new List<SqlToken>();
        while (SqlTokenizer.Next(sql, ref position, SqlTokenizerMode.Strict, out var token)) read.Add(token);
        Assert.Equal(SqlTokenizer.Tokenize(sql), read);
        Assert.Equal(sql.Length, position);
        Assert.True(read[0].IsKeyword(sql, "insert"));
    }

    [Fact]
    public void TokenKindsAndIdentifiers()
    {
        const string sql = "SELECT \"a\"\"b\", x.y, 'q''s', E'\\'', $$d$$, $1, ?, 1.5e3 FROM t -- c\n/* d */ WHERE a >= 1;";
        var tokens = SqlTokenizer.Tokenize(sql);
        Assert.Equal("a\"b", tokens[1].Identifier(sql));
        Assert.Equal(SqlTokenKind.QuotedIdentifier, tokens[1].Kind);
        var strings = tokens.Where(t => t.Kind == SqlTokenKind.String).Select(t => t.Text(sql)).ToList();
        Assert.Equal(["'q''s'", "E'\\''", "$$d$$"], strings);
        Assert.Equal(["$1", "?"], tokens.Where(t => t.Kind == SqlTokenKind.Parameter).Select(t => t.Text(sql)));
        Assert.Contains(tokens, t => t.Kind == SqlTokenKind.Number && t.Text(sql) == "1.5e3");
        Assert.DoesNotContain(tokens, t => t.Text(sql).Contains("c\n") || t.Text(sql) == "d");
        Assert.Equal(SqlTokenKind.Semicolon, tokens[^1].Kind);
        Assert.True(tokens.Single(t => t.Kind == SqlTokenKind.Word && t.IsKeyword(sql, "where")).Kind == SqlTokenKind.Word);
    }

    [Fact]
    public void SplitKeepsStatementTextExact()
    {
        Assert.Equal(["SELECT ';'", "SELECT \";\"", "SELECT 1 /* ; */ + 1"],
            SqlTokenizer.SplitStatements("  SELECT ';' ;SELECT \";\";\n-- x;\nSELECT 1 /* ; */ + 1 -- trailing ;"));
    }

    [Fact]
    public void HostileInputNeverReadsOutOfRange()
    {
        var random = new Random(42);
        const string alphabet = "'\"$-/*;()eE\\ abc1?.";
        for (var i = 0; i < 2000; i++)
        {
            var chars = new char[random.Next(0, 30)];
            for (var j = 0; j < chars.Length; j++) chars[j] = alphabet[random.Next(alphabet.Length)];
            var sql = new string(chars);
            try
            {
                foreach (var t in SqlTokenizer.Tokenize(sql))
                {
                    Assert.InRange(t.Start, 0, sql.Length);
                    Assert.InRange(t.End, t.Start + 1, sql.Length);
                }
            }
            catch (SqlSyntaxException e)
            {
                Assert.Equal(SqlState.SyntaxError, e.SqlState);
            }
        }
    }
}
