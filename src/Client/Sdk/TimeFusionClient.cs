using System.Runtime.CompilerServices;
using Apache.Arrow;
using TimeFusion.Grains;

namespace TimeFusion.Client.Sdk;

/// <summary>
/// The .NET client of a TimeFusion cluster, over any Orleans <see cref="IClusterClient"/>: typed Arrow ingest and
/// SQL queries returning Arrow. It logs in once as a server user (<see cref="ConnectAsync"/>: the users of the
/// PostgreSQL and Flight endpoints) and sends the signed session token the silo issued with every call; the silo
/// derives who the call acts as from that token (a user bound to projects, or an admin), never from the client.
/// The session is renewed before it expires. Errors arrive as <see cref="Wire.TimeFusionException"/> with a SQLSTATE
/// (28P01 for a wrong password, 28000 for a session the silo no longer accepts).
/// </summary>
public sealed class TimeFusionClient
{
    // Who a call acts as travels in the session token; the silo replaces this placeholder with the token's caller.
    private static readonly Caller FromSession = new(null, [], false);

    // Sessions last at least a minute (TimeFusion:Sdk:SessionLifetime); renewing this long before leaves room for slow calls.
    private static readonly TimeSpan RenewBefore = TimeSpan.FromSeconds(30);

    private readonly IClusterClient _cluster;
    private readonly SemaphoreSlim _renewing = new(1, 1);
    private ClientSession _session;

    private TimeFusionClient(IClusterClient cluster, ClientSession session)
    {
        _cluster = cluster;
        _session = session;
    }

    /// <summary>Logs in as <paramref name="user"/>; fails with <see cref="Wire.TimeFusionException"/> 28P01 when the password is wrong.</summary>
    public static async Task<TimeFusionClient> ConnectAsync(IClusterClient cluster, string user, string password)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var session = await cluster.GetGrain<IClientSessionGrain>(0).LoginAsync(user, password);
        return new TimeFusionClient(cluster, session);
    }

    /// <summary>When the current session token expires (it is renewed before, on the next call).</summary>
    public DateTimeOffset SessionExpiresAt => _session.ExpiresAt;

    private IQueryGatewayGrain Gateway => _cluster.GetGrain<IQueryGatewayGrain>(0);

    /// <summary>Writes a batch into (project, table); returns once it is durable and queryable.</summary>
    public async Task<long> InsertAsync(string project, string table, RecordBatch batch)
    {
        RequestContext.Set(ClientSession.RequestContextKey, await TokenAsync());
        return await Gateway.InsertAsync(project, table, batch, FromSession);
    }

    /// <summary>
    /// Runs a SELECT and streams its result batches: a query one table grain answers is read from that grain a batch at a
    /// time as this is enumerated (neither side holds the whole result); stopping early ends the query on the server.
    /// </summary>
    public async IAsyncEnumerable<RecordBatch> QueryAsync(string sql, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        RequestContext.Set(ClientSession.RequestContextKey, await TokenAsync());
        if (!_session.IsAdmin)
        {
            // The stream is read from the table grain itself, which only an admin's session may call from outside the
            // silos (its query is not re-checked there); other users get the gateway's gathered result.
            var result = await Gateway.QueryAsync(sql, FromSession, cancellationToken);
            foreach (var batch in result.Batches) yield return batch;
            yield break;
        }
        var start = await Gateway.StartQueryAsync(sql, FromSession, cancellationToken);
        RequestContext.Set(ClientSession.RequestContextKey, await TokenAsync());
        await using var stream = await QueryResultStream.OpenAsync(_cluster, start, cancellationToken);
        await foreach (var batch in stream.ReadAllAsync().WithCancellation(cancellationToken)) yield return batch;
    }

    /// <summary>Runs a SELECT and returns the whole result with its schema.</summary>
    public async Task<Wire.ArrowBatches> QueryAllAsync(string sql, CancellationToken cancellationToken = default)
    {
        RequestContext.Set(ClientSession.RequestContextKey, await TokenAsync());
        return await Gateway.QueryAsync(sql, FromSession, cancellationToken);
    }

    /// <summary>Runs INSERT … VALUES, UPDATE, DELETE, CREATE TABLE or FLUSH; returns rows affected.</summary>
    public async Task<long> ExecuteAsync(string sql, CancellationToken cancellationToken = default)
    {
        RequestContext.Set(ClientSession.RequestContextKey, await TokenAsync());
        return await Gateway.ExecuteAsync(sql, FromSession, cancellationToken);
    }

    /// <summary>Persists buffered rows of <paramref name="table"/> (or every table) to Delta; returns rows flushed.</summary>
    public Task<long> FlushAsync(string? table = null) => ExecuteAsync(table is null ? "FLUSH" : "FLUSH " + table);

    // The token to send, renewed first when it expires within RenewBefore. Each public method puts it in the request
    // context itself (it is async, so the value does not leak into its caller's flow; set in here it would not reach it).
    private async ValueTask<string> TokenAsync()
    {
        var session = _session;
        if (session.ExpiresAt - DateTimeOffset.UtcNow < RenewBefore)
        {
            await _renewing.WaitAsync();
            try
            {
                if (_session.ExpiresAt - DateTimeOffset.UtcNow < RenewBefore)
                    _session = await _cluster.GetGrain<IClientSessionGrain>(0).RenewAsync(_session.Token);
                session = _session;
            }
            finally
            {
                _renewing.Release();
            }
        }
        return session.Token;
    }

}
