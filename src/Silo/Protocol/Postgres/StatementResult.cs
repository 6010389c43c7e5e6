using Apache.Arrow;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>
/// What a statement produced: rows (an Arrow schema and a stream of batches) or a command tag.
/// The protocol layer disposes it (and every batch it reads) when the client is done with it.
/// </summary>
public sealed class StatementResult : IAsyncDisposable
{
    private readonly IAsyncDisposable? _owner;

    private StatementResult(Schema? schema, IAsyncEnumerable<RecordBatch>? batches, string? commandTag, string rowsVerb, IAsyncDisposable? owner)
    {
        Schema = schema;
        Batches = batches;
        CommandTag = commandTag;
        RowsVerb = rowsVerb;
        _owner = owner;
    }

    /// <summary>The result columns, when the statement returns rows.</summary>
    public Schema? Schema { get; }

    /// <summary>The result rows, when the statement returns rows. Each batch must match <see cref="Schema"/>.</summary>
    public IAsyncEnumerable<RecordBatch>? Batches { get; }

    /// <summary>The complete command tag of a statement without rows (e.g. <c>INSERT 0 3</c>, <c>CREATE TABLE</c>).</summary>
    public string? CommandTag { get; }

    /// <summary>For row results, the tag verb the row count is appended to (<c>SELECT</c> unless set).</summary>
    public string RowsVerb { get; }

    /// <summary>Whether the statement returns rows.</summary>
    public bool HasRows => Schema is not null;

    /// <summary>A row-returning result. <paramref name="owner"/> (if any) is disposed with the result.</summary>
    public static StatementResult Rows(Schema schema, IAsyncEnumerable<RecordBatch> batches, IAsyncDisposable? owner = null, string rowsVerb = "SELECT")
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(batches);
        return new StatementResult(schema, batches, null, rowsVerb, owner);
    }

    /// <summary>A result without rows with a complete command tag (e.g. <c>CREATE TABLE</c>, <c>BEGIN</c>).</summary>
    public static StatementResult Command(string commandTag)
    {
        ArgumentException.ThrowIfNullOrEmpty(commandTag);
        return new StatementResult(null, null, commandTag, "SELECT", null);
    }

    /// <summary>
    /// A result without rows that reports affected rows: <c>INSERT 0 n</c> for <c>INSERT</c>, <c>VERB n</c>
    /// for UPDATE, DELETE, MERGE, COPY, SELECT (CREATE TABLE AS), MOVE and FETCH.
    /// </summary>
    public static StatementResult Affected(string verb, long rows)
    {
        ArgumentException.ThrowIfNullOrEmpty(verb);
        return Command(FormatTag(verb, rows));
    }

    /// <summary>The command tag PostgreSQL uses for <paramref name="verb"/> with a row count.</summary>
    public static string FormatTag(string verb, long rows) =>
        string.Equals(verb, "INSERT", StringComparison.OrdinalIgnoreCase) ? $"INSERT 0 {rows}" : $"{verb.ToUpperInvariant()} {rows}";

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _owner?.DisposeAsync() ?? ValueTask.CompletedTask;
}
