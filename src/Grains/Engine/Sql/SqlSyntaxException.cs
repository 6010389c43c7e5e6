namespace TimeFusion.Sql;

/// <summary>
/// SQL text cannot be tokenized: an unterminated string, quoted identifier, dollar quote or comment.
/// Always SQLSTATE 42601 (syntax_error); the layers above translate it for their clients.
/// </summary>
public sealed class SqlSyntaxException(string message) : Exception(message)
{
    /// <summary>The SQLSTATE of every tokenizing failure: <see cref="Wire.SqlState.SyntaxError"/> (42601).</summary>
    public string SqlState => Wire.SqlState.SyntaxError;
}
