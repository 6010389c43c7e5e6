namespace TimeFusion.Sql;

/// <summary>What a <see cref="SqlToken"/> is.</summary>
public enum SqlTokenKind
{
    /// <summary>An unquoted identifier or keyword.</summary>
    Word,
    /// <summary>A double-quoted identifier.</summary>
    QuotedIdentifier,
    /// <summary>A string literal: <c>'…'</c>, <c>E'…'</c>, <c>$tag$…$tag$</c>, <c>X'…'</c>, …</summary>
    String,
    /// <summary>A numeric literal.</summary>
    Number,
    /// <summary>A positional parameter such as <c>$1</c> or <c>?</c>.</summary>
    Parameter,
    /// <summary><c>(</c>, <c>[</c> or <c>{</c>.</summary>
    Open,
    /// <summary><c>)</c>, <c>]</c> or <c>}</c>.</summary>
    Close,
    /// <summary><c>,</c>.</summary>
    Comma,
    /// <summary><c>;</c>.</summary>
    Semicolon,
    /// <summary><c>.</c>.</summary>
    Dot,
    /// <summary>Any other operator character (one character per token).</summary>
    Operator,
}

/// <summary>One token of SQL text: its kind and where it lies in the text.</summary>
/// <param name="Kind">The token kind.</param>
/// <param name="Start">Offset of the first character.</param>
/// <param name="Length">Length in characters.</param>
public readonly record struct SqlToken(SqlTokenKind Kind, int Start, int Length)
{
    /// <summary>Offset just past the token.</summary>
    public int End => Start + Length;

    /// <summary>The token's text as written.</summary>
    public string Text(string sql) => sql.Substring(Start, Length);

    /// <summary>Whether this is the unquoted word <paramref name="keyword"/> (case-insensitive).</summary>
    public bool IsKeyword(string sql, string keyword) =>
        Kind == SqlTokenKind.Word && Length == keyword.Length
        && string.Compare(sql, Start, keyword, 0, Length, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>Whether this is the single operator character <paramref name="c"/>.</summary>
    public bool IsOperator(string sql, char c) => Kind == SqlTokenKind.Operator && sql[Start] == c;

    /// <summary>
    /// The identifier this token names: a word as written (DuckDB matches identifiers case-insensitively),
    /// or a quoted identifier without its quotes and with doubled quotes undone. Null for other tokens.
    /// </summary>
    public string? Identifier(string sql) => Kind switch
    {
        SqlTokenKind.Word => Text(sql),
        SqlTokenKind.QuotedIdentifier => sql.Substring(Start + 1, Length - 2).Replace("\"\"", "\""),
        _ => null,
    };
}
