using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Grpc.AspNetCore.Server.Model;
using Google.Protobuf;
using Grpc.Core;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// Flight's <c>DoPut</c> served with <see cref="FlightPutData"/>'s marshaller instead of Apache.Arrow.Flight's: each
/// batch's body is copied once, out of gRPC's buffer into the array the table keeps (<see cref="FlightPutBatches"/>). It
/// answers the same method path as the library's endpoint, which it takes precedence over (<see cref="FlightEndpointHost"/>
/// maps it first in route order); the statement itself is <see cref="TimeFusionFlightServer.PutAsync"/>, as for the
/// library's reader (<see cref="FlightEndpointOptions.ReceivePutInPlace"/> off).
/// </summary>
internal sealed class FlightPutService(FlightServer server)
{
    /// <summary>The gRPC service name of Arrow Flight (arrow/format/Flight.proto).</summary>
    public const string ServiceName = "arrow.flight.protocol.FlightService";

    /// <summary>The DoPut method with the in-place marshaller for requests; responses are <c>PutResult</c>s.</summary>
    public static readonly Method<FlightPutData, FlightPutResult> DoPutMethod = new(MethodType.DuplexStreaming, ServiceName, "DoPut",
        FlightPutData.Marshaller, PutResultMarshaller());

    /// <summary>Runs one DoPut.</summary>
    public Task DoPut(IAsyncStreamReader<FlightPutData> requests, IServerStreamWriter<FlightPutResult> responses, ServerCallContext context)
    {
        var flight = server as TimeFusionFlightServer
            ?? throw new InvalidOperationException($"the Flight server is a {server.GetType().Name}, not a {nameof(TimeFusionFlightServer)}");
        var batches = new FlightPutBatches(requests);
        return flight.PutAsync(batches.ReadDescriptorAsync, batches.ReadNextAsync, responses, context);
    }

    // PutResult { bytes app_metadata = 1; }, written with Google.Protobuf's coded stream. Never read on the server.
    private static Marshaller<FlightPutResult> PutResultMarshaller() => new(
        (result, context) =>
        {
            var metadata = result.ApplicationMetadata;
            if (metadata.IsEmpty)
            {
                context.Complete([]);
                return;
            }
            var bytes = new byte[CodedOutputStream.ComputeTagSize(1) + CodedOutputStream.ComputeBytesSize(metadata)];
            var output = new CodedOutputStream(bytes);
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(metadata);
            output.CheckNoSpaceLeft();
            context.Complete(bytes);
        },
        _ => throw new NotSupportedException("the server does not read PutResult"));
}

/// <summary>Binds <see cref="FlightPutService.DoPut"/> for Grpc.AspNetCore (the service has no generated base class).</summary>
internal sealed class FlightPutMethodProvider : IServiceMethodProvider<FlightPutService>
{
    /// <inheritdoc />
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<FlightPutService> context) =>
        context.AddDuplexStreamingMethod(FlightPutService.DoPutMethod, [],
            (service, requests, responses, call) => service.DoPut(requests, responses, call));
}
