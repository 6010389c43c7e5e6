using System.Text.Json;
using Apache.Arrow;
using Grpc.Core;

namespace TimeFusion.Client.Cli.Flight;

/// <summary>
/// One DoPut call into one (project, table): each batch is written and its acknowledgement (<c>{"rows":n,"lsn":lsn}</c>)
/// read before the next, so a batch counts as landed only once the server said it is durable.
/// </summary>
public sealed class PutStream : IAsyncDisposable
{
    private readonly FlightPutCall _call;
    private readonly FlightConnection _connection;

    internal PutStream(FlightPutCall call, FlightConnection connection, string project)
    {
        _call = call;
        _connection = connection;
        Project = project;
    }

    /// <summary>The project the stream writes.</summary>
    public string Project { get; }

    /// <summary>Writes a batch and waits for its acknowledgement; returns the rows the server acknowledged.</summary>
    public async Task<long> PutAsync(RecordBatch batch, CancellationToken ct)
    {
        try
        {
            await _call.WriteAsync(batch).ConfigureAwait(false);
            if (!await _call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                throw new CliException($"the server at {_connection.Settings.Server} ended the upload of project '{Project}' without acknowledging a batch");
            using var ack = JsonDocument.Parse(_call.ResponseStream.Current.ApplicationMetadata.Memory);
            return ack.RootElement.GetProperty("rows").GetInt64();
        }
        catch (Exception) when (_call.EncodingFailure is { } encoding)
        {
            // Failed in our own serializer (whatever gRPC made of the exception): the server saw nothing of the batch.
            throw new CliException($"the batch for project '{Project}' could not be encoded for Flight: {encoding.Message}");
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
        {
            // A write fails with a transport error when the server already ended the call; its real status is in the response stream.
            throw FlightFailures.Describe(await StatusOf(e, ct).ConfigureAwait(false), _connection.Settings);
        }
    }

    private async Task<RpcException> StatusOf(Exception writeError, CancellationToken ct)
    {
        if (writeError is RpcException { StatusCode: not StatusCode.Cancelled } rpc) return rpc;
        try
        {
            while (await _call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
            }
        }
        catch (RpcException e)
        {
            return e;
        }
        return writeError as RpcException ?? new RpcException(new Status(StatusCode.Unknown, writeError.Message));
    }

    /// <summary>Ends the upload and waits for the server to finish the call.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        try
        {
            await _call.CompleteAsync().ConfigureAwait(false);
            while (await _call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
            }
        }
        catch (RpcException e)
        {
            throw FlightFailures.Describe(e, _connection.Settings);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _call.Dispose();
        return ValueTask.CompletedTask;
    }
}
