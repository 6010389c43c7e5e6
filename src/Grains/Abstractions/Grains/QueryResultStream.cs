using Apache.Arrow;
using Orleans.Runtime;
using TimeFusion.Grains.Streaming;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// A started query's rows (<see cref="QueryStart"/>) as a schema and a stream of batches, for a door (PostgreSQL,
/// Flight, the SDK): rows a table grain streams are pulled one batch per request, so neither the door nor the grain
/// holds more than a batch or two; rows several grains stream are concatenated or merged here (<see cref="StreamMerge"/>),
/// a batch or two per grain at a time; rows the gateway gathered are handed out batch by batch. Dispose it to end the
/// statement early: the table grains' DuckDB results and snapshots are freed.
/// </summary>
public sealed class QueryResultStream : IAsyncDisposable
{
    private readonly IAsyncEnumerator<ArrowBatches>? _remote;
    private readonly IReadOnlyList<RecordBatch>? _local;
    private readonly MultiGrainResult? _multi;
    private int _disposed;

    private QueryResultStream(Schema schema, IAsyncEnumerator<ArrowBatches>? remote, IReadOnlyList<RecordBatch>? local, MultiGrainResult? multi = null)
    {
        Schema = schema;
        _remote = remote;
        _local = local;
        _multi = multi;
    }

    /// <summary>The result's schema (its field metadata as the grain produced it).</summary>
    public Schema Schema { get; }

    /// <summary>
    /// Opens the rows of <paramref name="start"/>; for a streamed result this waits for the grain's first element (the
    /// statement has begun to run). <paramref name="cancellationToken"/> cancels the whole stream, not only the opening.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="start"/> names neither rows nor a grain.</exception>
    public static async Task<QueryResultStream> OpenAsync(IGrainFactory grains, QueryStart start, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(start);
        if (start.Rows is { } rows)
            return new QueryResultStream(rows.Schema, null, rows.Batches);
        if (start is { Grains: { } keys, Query: { } part, Merge: { } merge })
        {
            var multi = await MultiGrainResult.OpenAsync(grains, keys, part, merge, cancellationToken);
            return new QueryResultStream(multi.Schema, null, null, multi);
        }
        if (start.Grain is null || start.Query is null)
            throw new ArgumentException("the query start names neither rows nor a table grain", nameof(start));
        // One element per request: each element is a whole batch, so a larger Orleans batch would only hold more of them.
        var enumerator = grains.GetGrain<ITableGrain>(start.Grain).QueryStreamAsync(start.Query, cancellationToken)
            .WithBatchSize(1).GetAsyncEnumerator(cancellationToken);
        try
        {
            if (!await enumerator.MoveNextAsync())
                throw new InvalidOperationException("the table grain's stream ended before its schema");
            return new QueryResultStream(enumerator.Current.Schema, enumerator, null);
        }
        catch
        {
            await enumerator.DisposeAsync();
            throw;
        }
    }

    /// <summary>The batches in order (single use; each owned by the reader, which disposes it).</summary>
    public async IAsyncEnumerable<RecordBatch> ReadAllAsync()
    {
        if (_local is not null)
        {
            foreach (var b in _local) yield return b;
            yield break;
        }
        if (_multi is not null)
        {
            await foreach (var b in _multi.ReadAllAsync()) yield return b;
            yield break;
        }
        while (await _remote!.MoveNextAsync())
        {
            foreach (var b in _remote.Current.Batches)
            {
                if (b.Length > 0) yield return b;
            }
        }
    }

    /// <summary>Ends the enumeration (the grain frees the statement's result and snapshot).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_remote is not null) await _remote.DisposeAsync();
        if (_multi is not null) await _multi.DisposeAsync();
    }
}
