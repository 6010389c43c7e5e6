using TimeFusion.Query.Planning;

namespace TimeFusion.Tests.Sql;

/// <summary>The text step of the PostgreSQL operator translation: which operators become markers, and which stay.</summary>
public sealed class PostgresOperatorsTests
{
    [Theory]
    [InlineData("SELECT a ~ 'x' FROM t", "SELECT a  &&~  'x' FROM t")]
    [InlineData("SELECT a ~* 'x', b !~ 'y', c !~* 'z'", "SELECT a  &&~*  'x', b  &&!~  'y', c  &&!~*  'z'")]
    [InlineData("SELECT j #> '{a,b}', j #>> '{a}'", "SELECT j  &&^>  '{a,b}', j  &&^>>  '{a}'")]
    [InlineData("SELECT j ? 'k' FROM t", "SELECT j  &&^^  'k' FROM t")]
    [InlineData("SELECT (j->'a') ? 'k'", "SELECT (j->'a')  &&^^  'k'")]
    public void Binary_postgres_operators_become_markers(string sql, string expected) =>
        Assert.Equal(expected, PostgresOperators.RewriteText(sql));

    [Theory]
    [InlineData("SELECT ~5")]
    [InlineData("SELECT a FROM t WHERE b = ?")]
    [InlineData("SELECT a FROM t WHERE b ~~ 'x%' AND c !~~ 'y'")]
    [InlineData("SELECT '~ #> ?' AS text, \"a~b\" FROM t")]
    [InlineData("SELECT a -- ~ comment\nFROM t")]
    public void Other_text_is_left_alone(string sql) => Assert.Equal(sql, PostgresOperators.RewriteText(sql));

    [Fact]
    public void Markers_are_named_as_postgres_spells_them_in_errors()
    {
        Assert.Equal("#>>", PostgresOperators.PostgresName("&&^>>"));
        Assert.Equal("~*", PostgresOperators.PostgresName("&&~*"));
        Assert.Equal("+*", PostgresOperators.PostgresName("+*"));
    }
}
