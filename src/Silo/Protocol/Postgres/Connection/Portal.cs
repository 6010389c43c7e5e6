namespace TimeFusion.Silo.Protocol.Postgres.Connection;

/// <summary>A bound statement ready to execute (Bind), possibly part-way through its rows.</summary>
internal sealed class Portal(string name, PreparedStatement statement, IReadOnlyList<object?> parameters, short[] resultFormats, StatementCancellation cancellation)
    : IAsyncDisposable
{
    public string Name { get; } = name;

    public PreparedStatement Statement { get; } = statement;

    public IReadOnlyList<object?> Parameters { get; } = parameters;

    /// <summary>Result format codes from Bind: none (all text), one (applies to all) or one per column.</summary>
    public short[] ResultFormats { get; } = resultFormats;

    public StatementCancellation Cancellation { get; } = cancellation;

    /// <summary>The running result (set once the statement has been executed).</summary>
    public StatementResult? Result { get; set; }

    /// <summary>The rows being sent, for a row-returning result.</summary>
    public RowStream? Rows { get; set; }

    /// <summary>Set when the statement has run to completion (the tag it completed with).</summary>
    public string? CompletedTag { get; set; }

    public bool IsBinary(int column) =>
        ResultFormats.Length switch
        {
            0 => false,
            1 => ResultFormats[0] == 1,
            _ => column < ResultFormats.Length && ResultFormats[column] == 1,
        };

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Rows is not null)
            {
                await Rows.DisposeAsync().ConfigureAwait(false);
            }
            else if (Result is not null)
            {
                await Result.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            Rows = null;
            Result = null;
            Cancellation.Dispose();
        }
    }
}
