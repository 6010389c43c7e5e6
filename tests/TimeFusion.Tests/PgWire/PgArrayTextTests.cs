using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Protocol.Postgres.Types;

namespace TimeFusion.Tests.PgWire;

/// <summary>The one parser of PostgreSQL array text (parameters sent as text, COPY text/CSV array columns).</summary>
public sealed class PgArrayTextTests
{
    [Fact]
    public void Quoted_elements_keep_spaces_commas_and_escaped_quotes()
    {
        Assert.Equal(["x", "y z", "a,b", "say \"hi\"", "back\\slash"],
            PgArrayText.ParseStrings("{\"x\",\"y z\",\"a,b\",\"say \\\"hi\\\"\",\"back\\\\slash\"}"));
    }

    [Fact]
    public void Unquoted_elements_are_trimmed_and_backslash_escapes_a_character()
    {
        Assert.Equal(["a", "b c", "d,e"], PgArrayText.ParseStrings("{ a , b c ,d\\,e}"));
    }

    [Fact]
    public void Unquoted_null_is_sql_null_but_quoted_or_escaped_null_is_text()
    {
        Assert.Equal(["a", null, "NULL", "NULL", null], PgArrayText.ParseStrings("{a,NULL,\"NULL\",\\NULL,null}"));
    }

    [Fact]
    public void An_empty_array_has_no_elements_and_bounds_are_accepted()
    {
        Assert.Empty(PgArrayText.ParseStrings("{}"));
        Assert.Empty(PgArrayText.ParseStrings("  { }  "));
        Assert.Equal(["1", "2"], PgArrayText.ParseStrings("[1:2]={1,2}"));
    }

    [Theory]
    [InlineData("{{a,b},{c,d}}")]
    [InlineData("[1:2][1:1]={{a},{b}}")]
    [InlineData("x,y")]
    [InlineData("{a,b")]
    [InlineData("{\"a}")]
    [InlineData("{a,,b}")]
    [InlineData("{a} junk")]
    [InlineData("['a', 'b']")]
    public void Malformed_and_nested_arrays_are_refused_with_22P02(string text)
    {
        var e = Assert.Throws<PostgresErrorException>(() => PgArrayText.ParseStrings(text));
        Assert.Equal("22P02", e.SqlState);
        Assert.Equal("malformed array literal", e.Message);
    }
}
