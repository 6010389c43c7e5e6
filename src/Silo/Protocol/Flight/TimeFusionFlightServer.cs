using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TimeFusion.Grains;
using TimeFusion.Ingest;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Security;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// The Arrow Flight service (DESIGN.md §6), run against the cluster through the query gateway grain as the calling user:
/// <list type="bullet">
/// <item><c>DoPut</c>: descriptor path <c>[project, table]</c> (or <c>[table]</c> for the user's default project); each
/// batch is inserted on its own and acknowledged with a <c>PutResult</c> whose metadata is
/// <c>{"rows":n,"lsn":lsn}</c>. A rejected batch ends the call with an error; earlier batches stay.</item>
/// <item><c>DoGet</c>: the ticket is UTF-8 SQL; the result streams back as Arrow.</item>
/// <item><c>ListFlights</c> / <c>GetFlightInfo</c> / <c>GetSchema</c>: the tables (descriptor path <c>[table]</c>) with
/// their Arrow schemas and a ticket reading the whole table; a command descriptor is SQL.</item>
/// <item><c>DoAction("execute")</c>: a statement that changes data (INSERT, UPDATE, DELETE, CREATE TABLE, FLUSH); the
/// result body is the number of rows affected.</item>
/// <item><c>Handshake</c>: exchanges a Basic login for a bearer token.</item>
/// </list>
/// Every call authenticates (<see cref="FlightAuthenticator"/>); errors carry their SQLSTATE (<see cref="FlightErrors"/>).
/// </summary>
public sealed class TimeFusionFlightServer(
    IGrainFactory grains,
    FlightAuthenticator authenticator,
    FlightBearerTokens tokens,
    IOptions<FlightEndpointOptions> options,
    StatementCancellations cancellations,
    StatementAdmission admission,
    ILogger<TimeFusionFlightServer> logger) : FlightServer
{
    /// <summary>The action that runs a data-changing statement.</summary>
    public const string ExecuteAction = "execute";

    private IQueryGatewayGrain Gateway => grains.GetGrain<IQueryGatewayGrain>(0);

    /// <inheritdoc />
    public override async Task Handshake(IAsyncStreamReader<FlightHandshakeRequest> requestStream,
        IAsyncStreamWriter<FlightHandshakeResponse> responseStream, ServerCallContext context)
    {
        var user = await authenticator.AuthenticateAsync(context);
        var token = tokens.Issue(user.Name);
        // Clients read the token from the response header (pyarrow, ADBC) or from the payload.
        await context.WriteResponseHeadersAsync(new Metadata { { "authorization", "Bearer " + token } });
        while (await requestStream.MoveNext(context.CancellationToken))
        {
        }
        await responseStream.WriteAsync(new FlightHandshakeResponse(ByteString.CopyFromUtf8(token), 0));
    }

    /// <inheritdoc />
    /// <remarks>Apache.Arrow.Flight's reader: served when <see cref="FlightEndpointOptions.ReceivePutInPlace"/> is off
    /// (otherwise <see cref="FlightPutService"/> answers DoPut).</remarks>
    public override Task DoPut(FlightServerRecordBatchStreamReader requestStream, IAsyncStreamWriter<FlightPutResult> responseStream,
        ServerCallContext context) =>
        PutAsync(_ => requestStream.FlightDescriptor.AsTask()!,
            async ct => await requestStream.MoveNext(ct) ? requestStream.Current : null, responseStream, context);

    /// <summary>
    /// One DoPut: authenticates, reads the target from the descriptor, then inserts each batch on its own and
    /// acknowledges it once durable, in order; the first failure ends the call (earlier batches stay).
    /// </summary>
    internal async Task PutAsync(Func<CancellationToken, Task<FlightDescriptor?>> readDescriptor, Func<CancellationToken, Task<RecordBatch?>> readNext,
        IAsyncStreamWriter<FlightPutResult> responseStream, ServerCallContext context)
    {
        var caller = CallerOf(await authenticator.AuthenticateAsync(context));
        var ct = context.CancellationToken;
        var descriptor = await Read(() => readDescriptor(ct));
        var target = FlightPutTarget.Parse(descriptor, caller, out var error)
            ?? throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        // Refuse before reading any data; the gateway checks again on every insert.
        if (!caller.IsAdmin && !caller.Projects.Contains(target.Project))
            throw FlightErrors.From(SqlState.InsufficientPrivilege, $"permission denied for project '{target.Project}'");
        // One batch read ahead: while batch n is inserted, batch n+1 is received (a client that writes before each ack,
        // as Flight clients commonly do, keeps its stream busy). Inserts and acks stay one at a time and in order, so a
        // failed batch still ends the call with no later batch stored.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var next = Read(() => readNext(reading.Token));
        while (await next is { } batch)
        {
            next = Read(() => readNext(reading.Token));
            try
            {
                var lsn = await Call(() => Gateway.InsertAsync(target.Project, target.Table, batch, caller), ct);
                var ack = JsonSerializer.SerializeToUtf8Bytes(new PutAck(batch.Length, lsn), PutAckJson.Default.PutAck);
                await responseStream.WriteAsync(new FlightPutResult(ByteString.CopyFrom(ack)));
            }
            catch
            {
                await AbandonAsync(next, reading);
                throw;
            }
        }
    }

    // The read ahead of a call that ends with an error: stopped (its client may be waiting for the ack that will not
    // come) and awaited, so that no read of the request outlives the call; its own outcome no longer matters.
    private static async Task AbandonAsync(Task<RecordBatch?> read, CancellationTokenSource reading)
    {
        await reading.CancelAsync();
        try
        {
            await read;
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
        }
    }

    /// <inheritdoc />
    public override async Task DoGet(FlightTicket ticket, FlightServerRecordBatchStreamWriter responseStream, ServerCallContext context)
    {
        var user = await authenticator.AuthenticateAsync(context);
        var caller = CallerOf(user);
        var sql = ticket.Ticket.ToStringUtf8();
        if (string.IsNullOrWhiteSpace(sql))
            throw FlightErrors.From(SqlState.SyntaxError, "the ticket must hold a SQL query (UTF-8)");
        var ct = context.CancellationToken;
        // The rows stream from the table grain as the client reads them (gRPC flow control is the backpressure); the
        // user's slot and the statement's registration are held until the last row is written or the client goes.
        try
        {
            using var slot = await admission.EnterAsync(user.Name, ct);
            using var statement = cancellations.Begin(ct);
            try
            {
                var start = await Call(() => Gateway.StartQueryAsync(sql, caller, statement.Token), statement.Token);
                await using var stream = await Call(() => QueryResultStream.OpenAsync(grains, start, statement.Token), statement.Token);
                await responseStream.SetupStream(stream.Schema);
                var target = Math.Max(1, options.Value.TargetResponseMessageBytes);
                await using var rows = stream.ReadAllAsync().GetAsyncEnumerator(statement.Token);
                while (await Call(async () => await rows.MoveNextAsync(), statement.Token))
                {
                    using var batch = rows.Current;
                    foreach (var part in Split(batch, target)) await responseStream.WriteAsync(part);
                }
            }
            catch (RpcException) when (statement.Reason is { } reason && !ct.IsCancellationRequested)
            {
                throw FlightErrors.From(reason.SqlState, reason.Message);
            }
        }
        catch (TimeFusionException e)
        {
            throw FlightErrors.From(e);
        }
    }

    /// <inheritdoc />
    public override async Task ListFlights(FlightCriteria request, IAsyncStreamWriter<FlightInfo> responseStream, ServerCallContext context)
    {
        await authenticator.AuthenticateAsync(context);
        var tables = await Call(() => grains.GetGrain<ICatalogGrain>(0).ListTablesAsync(), context.CancellationToken);
        foreach (var table in tables.OrderBy(t => t.Name, StringComparer.Ordinal)) await responseStream.WriteAsync(InfoOf(table));
    }

    /// <inheritdoc />
    public override async Task<FlightInfo> GetFlightInfo(FlightDescriptor request, ServerCallContext context)
    {
        var caller = CallerOf(await authenticator.AuthenticateAsync(context));
        if (request.Type == FlightDescriptorType.Command)
        {
            var sql = request.Command.ToStringUtf8();
            var schema = await SchemaOfQuery(sql, caller, context.CancellationToken);
            return new FlightInfo(schema, request, [new FlightEndpoint(new FlightTicket(sql), [])], -1, -1);
        }
        return InfoOf(await FindTable(request, context.CancellationToken));
    }

    /// <inheritdoc />
    public override async Task<Schema> GetSchema(FlightDescriptor request, ServerCallContext context)
    {
        var caller = CallerOf(await authenticator.AuthenticateAsync(context));
        return request.Type == FlightDescriptorType.Command
            ? await SchemaOfQuery(request.Command.ToStringUtf8(), caller, context.CancellationToken)
            : ArrowSchemaOf(await FindTable(request, context.CancellationToken));
    }

    /// <inheritdoc />
    public override async Task ListActions(IAsyncStreamWriter<FlightActionType> responseStream, ServerCallContext context)
    {
        await authenticator.AuthenticateAsync(context);
        await responseStream.WriteAsync(new FlightActionType(ExecuteAction,
            "Runs INSERT, UPDATE, DELETE, CREATE TABLE or FLUSH given as UTF-8 SQL in the body; returns the rows affected"));
    }

    /// <inheritdoc />
    public override async Task DoAction(FlightAction request, IAsyncStreamWriter<FlightResult> responseStream, ServerCallContext context)
    {
        var user = await authenticator.AuthenticateAsync(context);
        var caller = CallerOf(user);
        if (request.Type != ExecuteAction)
            throw new RpcException(new Status(StatusCode.Unimplemented, $"unknown action '{request.Type}'; try '{ExecuteAction}'"));
        var sql = request.Body.ToStringUtf8();
        var rows = await Statement(user.Name, token => Gateway.ExecuteAsync(sql, caller, token), context.CancellationToken);
        await responseStream.WriteAsync(new FlightResult(rows.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <inheritdoc />
    public override Task DoExchange(FlightServerRecordBatchStreamReader requestStream, FlightServerRecordBatchStreamWriter responseStream,
        ServerCallContext context) => throw new RpcException(new Status(StatusCode.Unimplemented, "DoExchange is not supported"));

    /// <summary>The caller a user acts as: its projects, the first being the default, or an admin.</summary>
    public static Caller CallerOf(TimeFusionUser user) => user.ToCaller();

    private async Task<TableDefinition> FindTable(FlightDescriptor descriptor, CancellationToken ct)
    {
        var path = descriptor.Paths.ToList();
        if (path.Count != 1)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a table descriptor is the path [table]"));
        var name = path[0].ToLowerInvariant();
        var tables = await Call(() => grains.GetGrain<ICatalogGrain>(0).ListTablesAsync(), ct);
        return tables.FirstOrDefault(t => t.Name == name) ?? throw FlightErrors.From(SqlState.UndefinedTable, $"relation \"{path[0]}\" does not exist");
    }

    private async Task<Schema> SchemaOfQuery(string sql, Caller caller, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(sql)) throw FlightErrors.From(SqlState.SyntaxError, "the command must hold a SQL query (UTF-8)");
        var result = await Call(() => Gateway.QueryAsync($"SELECT * FROM ({sql.TrimEnd().TrimEnd(';')}) AS __flight LIMIT 0", caller, ct), ct);
        return result.Schema;
    }

    private static Schema ArrowSchemaOf(TableDefinition table) => TableSchema.Create(table.Name, table.Columns).ToArrowSchema();

    private static FlightInfo InfoOf(TableDefinition table) => new(ArrowSchemaOf(table), FlightDescriptor.CreatePathDescriptor(table.Name),
        [new FlightEndpoint(new FlightTicket($"SELECT * FROM {table.Name}"), [])], -1, -1);

    /// <summary>Row slices of <paramref name="batch"/> of about <paramref name="targetBytes"/> each (the batch itself when small).</summary>
    internal static IEnumerable<RecordBatch> Split(RecordBatch batch, long targetBytes)
    {
        var bytes = ArrowSize.Of(batch);
        if (bytes <= targetBytes || batch.Length <= 1)
        {
            yield return batch;
            yield break;
        }
        var parts = (int)Math.Min(batch.Length, (bytes + targetBytes - 1) / targetBytes);
        var rowsPerPart = (batch.Length + parts - 1) / parts;
        for (var offset = 0; offset < batch.Length; offset += rowsPerPart)
            yield return batch.Slice(offset, Math.Min(rowsPerPart, batch.Length - offset));
    }

    // Reading the client's stream: malformed Arrow or a broken stream is the client's error, not ours.
    private static async Task<T> Read<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e is not (RpcException or OperationCanceledException))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "unreadable Arrow stream: " + e.Message));
        }
    }

    /// <summary>
    /// A statement of <paramref name="user"/>: waits for one of the user's slots (<see cref="StatementAdmission"/>) and
    /// runs registered (<see cref="StatementCancellations"/>), so that the call's cancellation, server shutdown and
    /// memory pressure reach DuckDB.
    /// </summary>
    private async Task<T> Statement<T>(string user, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            using var slot = await admission.EnterAsync(user, ct);
            using var statement = cancellations.Begin(ct);
            try
            {
                return await Call(() => call(statement.Token), statement.Token);
            }
            catch (RpcException) when (statement.Reason is { } reason && !ct.IsCancellationRequested)
            {
                throw FlightErrors.From(reason.SqlState, reason.Message);
            }
        }
        catch (TimeFusionException e)
        {
            throw FlightErrors.From(e);
        }
    }

    private async Task<T> Call<T>(Func<Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await call().WaitAsync(ct);
        }
        catch (TimeFusionException e)
        {
            throw FlightErrors.From(e);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
        }
        catch (Exception e) when (e is not RpcException)
        {
            // Unexpected failures (Orleans timeouts naming grains, engine internals) stay in the log.
            logger.LogWarning(e, "Flight call failed");
            throw new RpcException(new Status(StatusCode.Internal, "internal error; the server log has the details"));
        }
    }
}
