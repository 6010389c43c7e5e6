using System.Runtime.CompilerServices;
using Apache.Arrow;
using TimeFusion.Grains;

namespace TimeFusion.Client.Sdk;

/// <summary>
/// The .NET client of a TimeFusion cluster, over any Orleans <see cref="IClusterClient"/>: typed Arrow ingest and
/// SQL queries returning Arrow. Every call acts as <see cref="Caller"/> (a user bound to projects, or an admin).
/// Errors arrive as <see cref="Wire.TimeFusionException"/> with a SQLSTATE.
/// </summary>
public sealed class TimeFusionClient(IClusterClient cluster, Caller caller)
{
    private IQueryGatewayGrain Gateway => cluster.GetGrain<IQueryGatewayGrain>(0);

    /// <summary>Who the calls act as.</summary>
    public Caller Caller { get; } = caller;

    /// <summary>Writes a batch into (project, table); returns once it is durable and queryable.</summary>
    public Task<long> InsertAsync(string project, string table, RecordBatch batch) => Gateway.InsertAsync(project, table, batch, Caller);

    /// <summary>
    /// Runs a SELECT and streams its result batches: a query one table grain answers is read from that grain a batch at a
    /// time as this is enumerated (neither side holds the whole result); stopping early ends the query on the server.
    /// </summary>
    public async IAsyncEnumerable<RecordBatch> QueryAsync(string sql, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var start = await Gateway.StartQueryAsync(sql, Caller, cancellationToken);
        await using var stream = await QueryResultStream.OpenAsync(cluster, start, cancellationToken);
        await foreach (var batch in stream.ReadAllAsync().WithCancellation(cancellationToken)) yield return batch;
    }

    /// <summary>Runs a SELECT and returns the whole result with its schema.</summary>
    public Task<Wire.ArrowBatches> QueryAllAsync(string sql) => Gateway.QueryAsync(sql, Caller);

    /// <summary>Runs INSERT … VALUES, UPDATE, DELETE, CREATE TABLE or FLUSH; returns rows affected.</summary>
    public Task<long> ExecuteAsync(string sql) => Gateway.ExecuteAsync(sql, Caller);

    /// <summary>Persists buffered rows of <paramref name="table"/> (or every table) to Delta; returns rows flushed.</summary>
    public Task<long> FlushAsync(string? table = null) => Gateway.ExecuteAsync(table is null ? "FLUSH" : "FLUSH " + table, Caller);
}
