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

    /// <summary>For PREPARE and DECLARE: the statement prepared, or the cursor's query.</summary>
    public ClassifiedStatement? Body { get; init; }

    /// <summary>For PREPARE: the parameter types as written (<c>int</c>, <c>text[]</c>, …).</summary>
    public IReadOnlyList<string> TypeNames { get; init; } = [];

    /// <summary>For EXECUTE: the arguments' texts (null for NULL), decoded by the prepared statement's parameter types.</summary>
    public IReadOnlyList<string?> Arguments { get; init; } = [];

    /// <summary>For EXECUTE: why the arguments cannot be read here (an expression rather than a constant), or null.</summary>
    public string? Refusal { get; init; }

    /// <summary>For DECLARE: WITH HOLD (the cursor outlives its transaction).</summary>
    public bool Hold { get; init; }

    /// <summary>For FETCH: how many rows (<see cref="long.MaxValue"/> for ALL).</summary>
    public long FetchCount { get; init; }
}
