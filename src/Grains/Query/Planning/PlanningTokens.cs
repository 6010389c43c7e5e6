using TimeFusion.Sql;

namespace TimeFusion.Query.Planning;

/// <summary>The shared SQL lexer as planning uses it: a tokenizing failure is a <see cref="SqlPlanningException"/> (42601).</summary>
internal static class PlanningTokens
{
    /// <summary><see cref="SqlTokenizer.Tokenize"/>, failing with a planning error.</summary>
    public static List<SqlToken> Tokenize(string sql)
    {
        try
        {
            return SqlTokenizer.Tokenize(sql);
        }
        catch (SqlSyntaxException e)
        {
            throw new SqlPlanningException(e.SqlState, e.Message);
        }
    }

    /// <summary><see cref="SqlTokenizer.SplitStatements"/>, failing with a planning error.</summary>
    public static IReadOnlyList<string> SplitStatements(string sql)
    {
        try
        {
            return SqlTokenizer.SplitStatements(sql);
        }
        catch (SqlSyntaxException e)
        {
            throw new SqlPlanningException(e.SqlState, e.Message);
        }
    }
}
