using System.Globalization;
using System.Net.Http;
using System.Runtime.CompilerServices;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;

namespace TimeFusion.Client.Cli.Flight;

/// <summary>
/// The command line's connection to a server's Arrow Flight endpoint: SQL queries (DoGet with a SQL ticket), statements
/// (the <c>execute</c> action), table schemas (GetSchema, ListFlights) and ingest (DoPut). Every call sends HTTP Basic
/// credentials; every failure becomes a <see cref="CliException"/> naming the address (<see cref="FlightFailures"/>).
/// </summary>
public sealed class FlightConnection : IDisposable
{
    /// <summary>How long to wait for a TCP connection: a server that is not there is reported within this.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    private readonly GrpcChannel _channel;
    private readonly FlightClient _client;
    private readonly CallInvoker _invoker;
    private readonly Metadata _headers;

    /// <summary>Opens a channel to <paramref name="settings"/>' server (nothing is sent until the first call).</summary>
    public FlightConnection(ConnectionSettings settings)
    {
        Settings = settings;
        var handler = new SocketsHttpHandler { ConnectTimeout = ConnectTimeout, EnableMultipleHttp2Connections = true };
        _channel = GrpcChannel.ForAddress(settings.Server.HttpUri, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = null, // results are split by the server; take what it sends
            MaxSendMessageSize = null,
        });
        _client = new FlightClient(_channel);
        _invoker = _channel.CreateCallInvoker();
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.User}:{settings.Password}"));
        _headers = new Metadata { { "authorization", "Basic " + basic } };
    }

    /// <summary>The server and user.</summary>
    public ConnectionSettings Settings { get; }

    /// <summary>Runs a query; the schema first, then the batches as they arrive.</summary>
    public async Task<QueryStream> QueryAsync(string sql, CancellationToken ct)
    {
        var call = _client.GetStream(new FlightTicket(sql), _headers, null, ct);
        try
        {
            var schema = await call.ResponseStream.Schema.ConfigureAwait(false);
            return new QueryStream(schema, Batches(call, ct));
        }
        catch (RpcException e)
        {
            call.Dispose();
            throw FlightFailures.Describe(e, Settings);
        }
    }

    private async IAsyncEnumerable<RecordBatch> Batches(FlightRecordBatchStreamingCall call, [EnumeratorCancellation] CancellationToken ct)
    {
        using (call)
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await call.ResponseStream.MoveNext(ct).ConfigureAwait(false);
                }
                catch (RpcException e)
                {
                    throw FlightFailures.Describe(e, Settings);
                }
                if (!more) yield break;
                yield return call.ResponseStream.Current;
            }
        }
    }

    /// <summary>Runs a statement through the <c>execute</c> action (INSERT, UPDATE, DELETE, CREATE TABLE, FLUSH); returns rows affected.</summary>
    public async Task<long> ExecuteAsync(string sql, CancellationToken ct)
    {
        try
        {
            using var call = _client.DoAction(new FlightAction("execute", sql), _headers, null, ct);
            long rows = 0;
            while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                rows = long.Parse(call.ResponseStream.Current.Body.ToStringUtf8(), CultureInfo.InvariantCulture);
            return rows;
        }
        catch (RpcException e)
        {
            throw FlightFailures.Describe(e, Settings);
        }
    }

    /// <summary>The Arrow schema of a table (GetSchema with the path descriptor <c>[table]</c>).</summary>
    public async Task<Schema> TableSchemaAsync(string table, CancellationToken ct)
    {
        try
        {
            return await _client.GetSchema(FlightDescriptor.CreatePathDescriptor(table), _headers).ResponseAsync.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw FlightFailures.Describe(e, Settings);
        }
    }

    /// <summary>The tables the server has (ListFlights), with their schemas.</summary>
    public async Task<IReadOnlyList<FlightInfo>> ListTablesAsync(CancellationToken ct)
    {
        try
        {
            using var call = _client.ListFlights(new FlightCriteria(), _headers, null, ct);
            var infos = new List<FlightInfo>();
            while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false)) infos.Add(call.ResponseStream.Current);
            return infos;
        }
        catch (RpcException e)
        {
            throw FlightFailures.Describe(e, Settings);
        }
    }

    /// <summary>
    /// Starts a DoPut of batches of <paramref name="schema"/> into (<paramref name="project"/>, <paramref name="table"/>);
    /// a null project is the user's default project. Written by <see cref="FlightPutCall"/> (not Apache.Arrow.Flight's writer).
    /// </summary>
    public async Task<PutStream> StartPutAsync(string? project, string table, Schema schema, CancellationToken ct)
    {
        try
        {
            var descriptor = project is null ? FlightDescriptor.CreatePathDescriptor(table) : FlightDescriptor.CreatePathDescriptor(project, table);
            var call = await FlightPutCall.StartAsync(_invoker, descriptor, schema, new CallOptions(_headers)).WaitAsync(ct).ConfigureAwait(false);
            return new PutStream(call, this, project ?? "(default)");
        }
        catch (RpcException e)
        {
            throw FlightFailures.Describe(e, Settings);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _channel.Dispose();
}

/// <summary>A query's result: its schema and its batches (read once).</summary>
public sealed record QueryStream(Schema Schema, IAsyncEnumerable<RecordBatch> Batches);
