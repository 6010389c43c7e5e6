namespace TimeFusion.Silo.Protocol.Postgres.Connection;

/// <summary>
/// A cursor opened by <c>DECLARE</c>: the query's result, read forward by <c>FETCH</c> as it streams from the backend
/// (the gateway's result is itself bounded by TimeFusion's result size limit), never run again.
/// </summary>
internal sealed class Cursor(string name, bool hold, StatementResult result, RowStream rows, StatementCancellation cancellation) : IAsyncDisposable
{
    public string Name { get; } = name;

    /// <summary>WITH HOLD: survives the end of the transaction block that declared it.</summary>
    public bool Hold { get; } = hold;

    public StatementResult Result { get; } = result;

    public RowStream Rows { get; } = rows;

    public StatementCancellation Cancellation { get; } = cancellation;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Rows.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            Cancellation.Dispose();
        }
    }
}
