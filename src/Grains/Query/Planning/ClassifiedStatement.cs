namespace TimeFusion.Query.Planning;

/// <summary>One statement of a SQL string, classified.</summary>
/// <param name="Kind">The statement kind.</param>
/// <param name="Sql">The statement's text: from its first token to its last, without the separating semicolon.</param>
/// <param name="Keyword">Its first keyword, upper-case (<c>SELECT</c>, <c>WITH</c>, <c>SET</c>, …; <c>(</c> for a parenthesized query).</param>
public sealed record ClassifiedStatement(StatementKind Kind, string Sql, string Keyword)
{
    /// <summary>For <see cref="StatementKind.Flush"/>: the table named (<c>FLUSH t</c>), or null for <c>FLUSH</c> (every table).</summary>
    public string? FlushTable { get; init; }
}
