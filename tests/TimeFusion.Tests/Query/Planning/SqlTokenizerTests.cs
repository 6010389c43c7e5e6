using TimeFusion.Sql;
using TimeFusion.Query.Planning;

namespace TimeFusion.Tests.Query.Planning;

public sealed class SqlTokenizerTests
{
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
                Assert.Equal(SqlStates.SyntaxError, e.SqlState);
            }
        }
    }
}
