namespace TimeFusion.Silo.Protocol.Postgres.Sql;

internal enum SqlTokenKind
{
    /// <summary>An unquoted identifier or keyword.</summary>
    Word,
    /// <summary>A double-quoted identifier.</summary>
    QuotedIdentifier,
    /// <summary>A string constant: '…', E'…', U&amp;'…', B'…', X'…' or $tag$…$tag$.</summary>
    String,
    Number,
    /// <summary>A positional parameter <c>$n</c>.</summary>
    Parameter,
    /// <summary>Any other character or operator.</summary>
    Punct,
    Semicolon,
}

/// <summary>A token of SQL text: its kind and where it is (the value is read on demand).</summary>
internal readonly record struct SqlToken(SqlTokenKind Kind, int Start, int End, bool EscapeString = false, int QuoteStart = 0, int QuoteLength = 0);
