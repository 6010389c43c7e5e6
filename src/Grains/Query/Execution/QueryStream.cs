using Apache.Arrow;
using TimeFusion.DuckDb;

namespace TimeFusion.Query.Execution;

/// <summary>
/// A statement's result read one batch at a time (<see cref="NextAsync"/>): what it holds in memory is one batch, never
/// the whole result. Disposing it ends the statement in DuckDB (an abandoned result is freed at once) and releases what
/// the statement held (the snapshot's turn, the connection).
/// </summary>
public sealed class QueryStream : IAsyncDisposable
{
    private readonly DuckDbResultStream _stream;
    private readonly Action? _release;
    private Task? _inflight;
    private int _disposed;

    internal QueryStream(DuckDbResultStream stream, Action? release)
    {
        _stream = stream;
        _release = release;
    }

    /// <summary>The result's schema.</summary>
    public Schema Schema => _stream.Schema;

    /// <summary>The next batch (the caller owns it), or null at the end. One call at a time.</summary>
    /// <exception cref="QueryExecutionException">DuckDB aborted the statement.</exception>
    /// <exception cref="OperationCanceledException">The statement was cancelled.</exception>
    public async ValueTask<RecordBatch?> NextAsync()
    {
        // DuckDB computes the next chunks while it is fetched: off the caller's thread.
        var next = Task.Run(() =>
        {
            try
            {
                return _stream.Next();
            }
            catch (DuckDbSqlException e)
            {
                throw ExecutionErrors.From(e);
            }
        });
        _inflight = next;
        return await next.ConfigureAwait(false);
    }

    /// <summary>Every batch from here on (each owned by the caller), then the end.</summary>
    public async IAsyncEnumerable<RecordBatch> ReadAllAsync()
    {
        while (await NextAsync().ConfigureAwait(false) is { } batch)
            yield return batch;
    }

    /// <summary>Ends the statement and frees what it held.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // A fetch still running (its statement cancelled) must end before DuckDB's result is freed under it.
        if (_inflight is { } inflight)
            await inflight.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            _stream.Dispose();
        }
        finally
        {
            _release?.Invoke();
        }
    }
}
