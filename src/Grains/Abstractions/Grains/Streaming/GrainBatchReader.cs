using Apache.Arrow;
using Orleans.Runtime;
using TimeFusion.Wire;

namespace TimeFusion.Grains.Streaming;

/// <summary>
/// One table grain's stream of a statement (<see cref="ITableGrain.QueryStreamAsync"/>) read batch by batch, with one
/// element requested ahead: the grain computes its next batch while the door works on this one, and never more
/// (bounded prefetch). Disposing it cancels the grain's enumeration, which interrupts DuckDB there and frees its result.
/// </summary>
internal sealed class GrainBatchReader : IAsyncDisposable
{
    private readonly IAsyncEnumerator<ArrowBatches> _enumerator;
    private readonly CancellationTokenSource _stop;
    private readonly Queue<RecordBatch> _pending = new();
    private Task<bool>? _ahead;
    private int _disposed;

    private GrainBatchReader(IAsyncEnumerator<ArrowBatches> enumerator, CancellationTokenSource stop, Schema schema)
    {
        _enumerator = enumerator;
        _stop = stop;
        Schema = schema;
    }

    /// <summary>The grain's result schema.</summary>
    public Schema Schema { get; }

    /// <summary>Starts the statement on <paramref name="grain"/> and waits for its schema (the statement has begun).</summary>
    public static async Task<GrainBatchReader> OpenAsync(IGrainFactory grains, string grain, GrainQuery query, CancellationToken cancellationToken)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // One element per request: each element is a whole batch, so a larger Orleans batch would only hold more of them.
        var enumerator = grains.GetGrain<ITableGrain>(grain).QueryStreamAsync(query, stop.Token)
            .WithBatchSize(1).GetAsyncEnumerator(stop.Token);
        try
        {
            if (!await enumerator.MoveNextAsync())
                throw new InvalidOperationException("the table grain's stream ended before its schema");
            var reader = new GrainBatchReader(enumerator, stop, enumerator.Current.Schema);
            reader._ahead = enumerator.MoveNextAsync().AsTask();
            return reader;
        }
        catch
        {
            await stop.CancelAsync();
            await enumerator.DisposeAsync();
            stop.Dispose();
            throw;
        }
    }

    /// <summary>The next non-empty batch, or null at the end. One call at a time.</summary>
    public async ValueTask<RecordBatch?> NextAsync()
    {
        while (true)
        {
            if (_pending.TryDequeue(out var batch)) return batch;
            if (_ahead is null) return null;
            var more = await _ahead;
            _ahead = null;
            if (!more) return null;
            foreach (var b in _enumerator.Current.Batches)
            {
                if (b.Length > 0) _pending.Enqueue(b);
            }
            _ahead = _enumerator.MoveNextAsync().AsTask();
        }
    }

    /// <summary>Cancels the grain's enumeration (DuckDB is interrupted there) and ends it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await _stop.CancelAsync();
            // The request ahead ends with the cancellation; the enumerator takes one call at a time.
            if (_ahead is { } ahead) await ((Task)ahead).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _enumerator.DisposeAsync();
        }
        catch (Exception)
        {
            // The grain frees an enumeration nobody reads on its own.
        }
        finally
        {
            _stop.Dispose();
        }
    }
}
