using Apache.Arrow;
using Apache.Arrow.Flight;
using Grpc.Core;

namespace TimeFusion.Client.Cli.Flight;

/// <summary>
/// One Flight DoPut call written without Apache.Arrow.Flight's writer: a raw gRPC duplex call whose messages
/// <see cref="FlightDataEncoder"/> serializes straight into gRPC's send buffer (one copy of each batch's bytes on the way
/// out, no <c>MemoryStream</c> or <c>ByteString</c>). The schema (with the descriptor) is sent when the call starts; a
/// Flight stream ends when the request stream is completed. Not thread-safe: one write at a time.
/// </summary>
public sealed class FlightPutCall : IDisposable
{
    private readonly AsyncDuplexStreamingCall<FlightPutMessage, FlightPutResult> _call;
    private readonly FlightDataEncoder _encoder;

    private FlightPutCall(AsyncDuplexStreamingCall<FlightPutMessage, FlightPutResult> call, FlightDataEncoder encoder)
    {
        _call = call;
        _encoder = encoder;
    }

    /// <summary>
    /// Starts a DoPut of batches of <paramref name="schema"/> to <paramref name="descriptor"/> on <paramref name="invoker"/>
    /// and sends the schema message.
    /// </summary>
    /// <exception cref="RpcException">The call failed before the schema was sent.</exception>
    public static async Task<FlightPutCall> StartAsync(CallInvoker invoker, FlightDescriptor descriptor, Schema schema, CallOptions options)
    {
        var encoder = new FlightDataEncoder(descriptor, schema);
        var put = new FlightPutCall(invoker.AsyncDuplexStreamingCall(FlightPutMethod.DoPut, null, options), encoder);
        try
        {
            await put._call.RequestStream.WriteAsync(FlightPutMessage.Schema(encoder)).ConfigureAwait(false);
        }
        catch
        {
            put.Dispose();
            throw;
        }
        return put;
    }

    /// <summary>The server's <c>PutResult</c>s.</summary>
    public IAsyncStreamReader<FlightPutResult> ResponseStream => _call.ResponseStream;

    /// <summary>Why a batch could not be encoded (a client-side failure: the server saw nothing of it), else null.</summary>
    public Exception? EncodingFailure => _encoder.Failure;

    /// <summary>Writes <paramref name="batch"/> (its schema must be the call's); returns once gRPC has taken its bytes.</summary>
    public async Task WriteAsync(RecordBatch batch)
    {
        await _call.RequestStream.WriteAsync(FlightPutMessage.Batch(_encoder, batch)).ConfigureAwait(false);
        while (_encoder.TryTakeHeld(out var held))
            await _call.RequestStream.WriteAsync(FlightPutMessage.Held(_encoder, held)).ConfigureAwait(false);
    }

    /// <summary>Ends the upload (the server then finishes the call after its last acknowledgement).</summary>
    public Task CompleteAsync() => _call.RequestStream.CompleteAsync();

    /// <summary>The call's status, once it has ended.</summary>
    public Status GetStatus() => _call.GetStatus();

    /// <inheritdoc />
    public void Dispose()
    {
        _call.Dispose();
        _encoder.Dispose();
    }
}
