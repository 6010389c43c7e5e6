using TimeFusion.Wire;
namespace TimeFusion.Silo.Protocol.Postgres.Sql;

internal enum CopyFormat
{
    Text,
    Csv,
    Binary,
}

/// <summary>
/// A <c>COPY … FROM STDIN</c> or <c>COPY … TO STDOUT</c> statement with its options (both the
/// parenthesised option list and the pre-9.0 keyword syntax psql's <c>\copy</c> passes through).
/// </summary>
internal sealed class CopyStatement
{
    /// <summary>True for FROM STDIN, false for TO STDOUT.</summary>
    public bool From { get; init; }

    /// <summary>The table reference as written (possibly qualified and quoted); null for <c>COPY (query) TO</c>.</summary>
    public string? Table { get; init; }

    /// <summary>The query of <c>COPY (query) TO STDOUT</c>.</summary>
    public string? Query { get; init; }

    /// <summary>Column names (identifiers folded as PostgreSQL does), or null for all columns.</summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>The column list as written, for rebuilding a query.</summary>
    public string? ColumnsText { get; init; }

    public CopyFormat Format { get; set; } = CopyFormat.Text;

    public string? Delimiter { get; set; }

    public string? Null { get; set; }

    public bool Header { get; set; }

    public string? Quote { get; set; }

    public string? Escape { get; set; }

    public List<string> ForceNotNull { get; } = [];

    public List<string> ForceNull { get; } = [];

    public bool ForceQuoteAll { get; set; }

    public List<string> ForceQuote { get; } = [];

    public char DelimiterChar => Delimiter is { Length: 1 } d ? d[0] : Format == CopyFormat.Csv ? ',' : '\t';

    public string NullString => Null ?? (Format == CopyFormat.Csv ? "" : "\\N");

    public char QuoteChar => Quote is { Length: 1 } q ? q[0] : '"';

    public char EscapeChar => Escape is { Length: 1 } e ? e[0] : QuoteChar;

    /// <summary>Checks option combinations as PostgreSQL does.</summary>
    /// <exception cref="PostgresErrorException">An invalid option.</exception>
    public void Validate()
    {
        if (Format == CopyFormat.Binary && (Delimiter is not null || Null is not null || Header || Quote is not null || Escape is not null))
        {
            throw Error("cannot specify DELIMITER, NULL, HEADER, QUOTE or ESCAPE in BINARY mode");
        }
        if (Delimiter is not null && (Delimiter.Length != 1 || Delimiter[0] > 127))
        {
            throw Error("COPY delimiter must be a single one-byte character");
        }
        if (Delimiter is "\r" or "\n" || (Format == CopyFormat.Text && Delimiter is "\\"))
        {
            throw Error("COPY delimiter cannot be newline, carriage return or backslash");
        }
        if (Format != CopyFormat.Csv && (Quote is not null || Escape is not null || ForceNotNull.Count > 0 || ForceNull.Count > 0 || ForceQuote.Count > 0 || ForceQuoteAll))
        {
            throw Error("COPY QUOTE, ESCAPE and FORCE options are available only in CSV mode");
        }
        if (Quote is not null && (Quote.Length != 1 || Quote[0] > 127))
        {
            throw Error("COPY quote must be a single one-byte character");
        }
        if (Escape is not null && (Escape.Length != 1 || Escape[0] > 127))
        {
            throw Error("COPY escape must be a single one-byte character");
        }
        if (Format == CopyFormat.Csv && QuoteChar == DelimiterChar)
        {
            throw Error("COPY delimiter and quote must be different");
        }
        if (Null is not null && (Null.Contains('\r') || Null.Contains('\n')))
        {
            throw Error("COPY null representation cannot use newline or carriage return");
        }
    }

    private static PostgresErrorException Error(string message) => new(SqlState.InvalidParameterValue, message);
}
