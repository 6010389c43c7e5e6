using Apache.Arrow;
using Apache.Arrow.Flight;
using Google.Protobuf;
using Grpc.Core;

namespace TimeFusion.Client.Cli.Flight;

/// <summary>
/// Flight's <c>DoPut</c> as a raw gRPC method: requests are <see cref="FlightPutMessage"/>s that the
/// <see cref="FlightDataEncoder"/> writes into gRPC's buffer, responses are <c>PutResult</c>s read into
/// <see cref="FlightPutResult"/>.
/// </summary>
internal static class FlightPutMethod
{
    /// <summary><c>arrow.flight.protocol.FlightService/DoPut</c>.</summary>
    public static readonly Method<FlightPutMessage, FlightPutResult> DoPut = new(
        MethodType.DuplexStreaming,
        "arrow.flight.protocol.FlightService",
        "DoPut",
        new Marshaller<FlightPutMessage>(
            (message, context) => message.WriteTo(context),
            _ => throw new NotSupportedException("the client does not read FlightData")),
        new Marshaller<FlightPutResult>(
            (_, _) => throw new NotSupportedException("the client does not write PutResult"),
            context => ReadPutResult(context.PayloadAsNewBuffer())));

    /// <summary>A <c>PutResult</c>: <c>app_metadata</c> (1); unknown fields are skipped.</summary>
    internal static FlightPutResult ReadPutResult(byte[] payload)
    {
        var input = new CodedInputStream(payload);
        var metadata = ByteString.Empty;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (tag == WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited)) metadata = input.ReadBytes();
            else input.SkipLastField();
        }
        return new FlightPutResult(metadata);
    }
}

/// <summary>One request message of a DoPut: the schema, a batch, or a message the encoder held back (a dictionary).</summary>
internal sealed class FlightPutMessage
{
    private readonly FlightDataEncoder _encoder;
    private readonly RecordBatch? _batch;
    private readonly ReadOnlyMemory<byte> _held;
    private readonly bool _isHeld;

    private FlightPutMessage(FlightDataEncoder encoder, RecordBatch? batch, ReadOnlyMemory<byte> held, bool isHeld)
    {
        _encoder = encoder;
        _batch = batch;
        _held = held;
        _isHeld = isHeld;
    }

    /// <summary>The schema message (it carries the descriptor).</summary>
    public static FlightPutMessage Schema(FlightDataEncoder encoder) => new(encoder, null, default, false);

    /// <summary>A record batch (and before it, in messages the encoder holds, the dictionaries it needs).</summary>
    public static FlightPutMessage Batch(FlightDataEncoder encoder, RecordBatch batch) => new(encoder, batch, default, false);

    /// <summary>A whole FlightData protobuf the encoder held back.</summary>
    public static FlightPutMessage Held(FlightDataEncoder encoder, ReadOnlyMemory<byte> payload) => new(encoder, null, payload, true);

    /// <summary>gRPC's serializer.</summary>
    public void WriteTo(SerializationContext context)
    {
        if (_isHeld) FlightDataEncoder.EncodeHeld(_held, context);
        else _encoder.Encode(_batch, context);
    }
}
