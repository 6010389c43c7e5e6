using TimeFusion.Sql;
using TimeFusion.Wire;

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

    /// <summary>
    /// The first token of <paramref name="sql"/>, read without tokenizing the rest (a long INSERT is lexed once, by
    /// the code that cuts it apart).
    /// </summary>
    /// <exception cref="SqlPlanningException">42601: the text starts with an unterminated token, or holds none.</exception>
    public static SqlToken FirstToken(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var position = 0;
        try
        {
            return SqlTokenizer.Next(sql, ref position, SqlTokenizerMode.Strict, out var token)
                ? token
                : throw new SqlPlanningException(SqlState.SyntaxError, "empty statement");
        }
        catch (SqlSyntaxException e)
        {
            throw new SqlPlanningException(e.SqlState, e.Message);
        }
    }

    /// <summary>
    /// Checks that <paramref name="sql"/> lexes and holds one statement (no semicolon outside literals and comments),
    /// without building tokens: what a front end that split the text itself guarantees, checked at the trust boundary.
    /// </summary>
    /// <exception cref="SqlPlanningException">42601: a lexing error, no statement, or more than one.</exception>
    public static void RequireOneStatement(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var position = 0;
        var any = false;
        try
        {
            while (SqlTokenizer.Next(sql, ref position, SqlTokenizerMode.Strict, out var token))
            {
                if (token.Kind == SqlTokenKind.Semicolon)
                    throw new SqlPlanningException(SqlState.SyntaxError, "expected one statement without a semicolon");
                any = true;
            }
        }
        catch (SqlSyntaxException e)
        {
            throw new SqlPlanningException(e.SqlState, e.Message);
        }
        if (!any) throw new SqlPlanningException(SqlState.SyntaxError, "empty statement");
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
