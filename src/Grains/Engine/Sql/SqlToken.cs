namespace TimeFusion.Sql;

/// <summary>What a <see cref="SqlToken"/> is.</summary>
public enum SqlTokenKind
{
    /// <summary>An unquoted identifier or keyword.</summary>
    Word,
    /// <summary>A double-quoted identifier: <c>"…"</c> or <c>U&amp;"…"</c>.</summary>
    QuotedIdentifier,
    /// <summary>A string literal: <c>'…'</c>, <c>E'…'</c>, <c>$tag$…$tag$</c>, <c>X'…'</c>, <c>B'…'</c>, <c>N'…'</c>, <c>U&amp;'…'</c>.</summary>
    String,
    /// <summary>A numeric literal (with any identifier characters glued to it, as PostgreSQL lexes <c>0x1F</c> or <c>5s</c>).</summary>
    Number,
    /// <summary>A parameter: positional <c>$1</c> (see <see cref="SqlToken.IsPositionalParameter"/>), <c>?</c>, or named <c>$name</c>.</summary>
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

/// <summary>One token of SQL text: its kind and where it lies in the text (values are read on demand).</summary>
/// <param name="Kind">The token kind.</param>
/// <param name="Start">Offset of the first character.</param>
/// <param name="Length">Length in characters.</param>
public readonly record struct SqlToken(SqlTokenKind Kind, int Start, int Length)
{
    /// <summary>Offset just past the token.</summary>
    public int End => Start + Length;

    /// <summary>Whether this is a one-character symbol: parenthesis, bracket, comma, semicolon, dot or operator.</summary>
    public bool IsSymbol => Kind is SqlTokenKind.Open or SqlTokenKind.Close or SqlTokenKind.Comma
        or SqlTokenKind.Semicolon or SqlTokenKind.Dot or SqlTokenKind.Operator;

    /// <summary>The token's text as written.</summary>
    public string Text(string sql) => sql.Substring(Start, Length);

    /// <summary>Whether this is the unquoted word <paramref name="keyword"/> (case-insensitive).</summary>
    public bool IsKeyword(string sql, string keyword) =>
        Kind == SqlTokenKind.Word && Length == keyword.Length
        && string.Compare(sql, Start, keyword, 0, Length, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>Whether this is the single operator character <paramref name="c"/>.</summary>
    public bool IsOperator(string sql, char c) => Kind == SqlTokenKind.Operator && sql[Start] == c;

    /// <summary>Whether this is the one-character symbol <paramref name="c"/> (<c>(</c>, <c>,</c>, <c>.</c>, <c>=</c>, …).</summary>
    public bool IsSymbolChar(string sql, char c) => IsSymbol && sql[Start] == c;

    /// <summary>Whether this is a positional parameter <c>$n</c> (not <c>?</c> or <c>$name</c>).</summary>
    public bool IsPositionalParameter(string sql) =>
        Kind == SqlTokenKind.Parameter && Length > 1 && sql[Start] == '$' && char.IsAsciiDigit(sql[Start + 1]);

    /// <summary>Whether this is an <c>E'…'</c> string, whose backslashes are escapes.</summary>
    public bool IsEscapeString(string sql) => Kind == SqlTokenKind.String && sql[Start] is 'e' or 'E';

    /// <summary>
    /// The identifier this token names: a word as written (DuckDB matches identifiers case-insensitively),
    /// or a quoted identifier without its quotes and with doubled quotes undone. Null for other tokens.
    /// </summary>
    public string? Identifier(string sql) => Kind switch
    {
        SqlTokenKind.Word => Text(sql),
        SqlTokenKind.QuotedIdentifier => QuotedBody(sql).Replace("\"\"", "\""),
        _ => null,
    };

    /// <summary>
    /// The identifier as PostgreSQL resolves it: a word folded to lower case, a quoted identifier taken literally
    /// (quotes removed, doubled quotes undone). Null for other tokens.
    /// </summary>
    public string? FoldedIdentifier(string sql) => Kind == SqlTokenKind.Word ? Text(sql).ToLowerInvariant() : Identifier(sql);

    /// <summary>A string constant's value: quotes removed, doubled quotes undone, <c>E'…'</c> escapes applied. Null for other tokens.</summary>
    public string? StringValue(string sql) => Kind == SqlTokenKind.String ? SqlStringValue.Of(sql, this) : null;

    /// <summary>A quoted identifier's text between its quotes (an unterminated one, in lenient mode, runs to the end).</summary>
    private string QuotedBody(string sql)
    {
        var open = sql[Start] == '"' ? Start : Start + 2; // U&"…"
        var closed = End - open >= 2 && sql[End - 1] == '"';
        return sql.Substring(open + 1, End - open - (closed ? 2 : 1));
    }
}
