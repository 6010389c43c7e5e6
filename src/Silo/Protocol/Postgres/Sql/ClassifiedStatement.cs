namespace TimeFusion.Silo.Protocol.Postgres.Sql;

/// <summary>One statement and what the protocol layer makes of it.</summary>
internal sealed class ClassifiedStatement
{
    public required StatementKind Kind { get; init; }

    public required string Sql { get; init; }

    /// <summary>The first keyword, upper case (e.g. SELECT, INSERT, BEGIN), <c>(</c> for a parenthesized query, or empty.</summary>
    public string Verb { get; init; } = "";

    /// <summary>The statement as the backend receives it: its text and the keyword read here (never re-read there).</summary>
    public BackendStatement Backend => new(Sql, Verb);

    /// <summary>For SET/SHOW/RESET/DEALLOCATE: the setting or statement name (lower case), or <c>all</c>.</summary>
    public string? Name { get; init; }

    /// <summary>For SET: the value (list items joined by <c>, </c>), or null for DEFAULT.</summary>
    public string? Value { get; init; }

    /// <summary>For COPY FROM STDIN / TO STDOUT.</summary>
    public CopyStatement? Copy { get; init; }
}
