using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TimeFusion.Otlp.Rpc;
using TimeFusion.Silo.Protocol.Otlp.Mapping;
using RpcStatus = TimeFusion.Otlp.Rpc.Status;
using Status = Grpc.Core.Status;

namespace TimeFusion.Silo.Protocol.Otlp.Grpc;

/// <summary>
/// One OTLP/gRPC export, shared by the three services: authenticate from the <c>authorization</c> metadata, take the
/// project from <c>x-timefusion-project</c>, map, write; failures become gRPC statuses. Throttling is
/// <c>RESOURCE_EXHAUSTED</c> (unavailability <c>UNAVAILABLE</c>) with a <c>google.rpc.RetryInfo</c> in the
/// <c>grpc-status-details-bin</c> trailer, which OTLP exporters honour (OTLP specification, "OTLP/gRPC Throttling").
/// </summary>
internal static class OtlpGrpcCalls
{
    /// <summary>The trailer holding the binary <c>google.rpc.Status</c> with its details.</summary>
    public const string StatusDetailsTrailer = "grpc-status-details-bin";

    public static async Task<TResponse> ExportAsync<TResponse>(OtlpReceiver receiver, ServerCallContext context,
        Func<long, MappedRows> map, Func<MappedRows, TResponse> respond)
    {
        try
        {
            var access = await receiver.AuthorizeAsync(context.RequestHeaders.GetValue("authorization"),
                context.RequestHeaders.GetValue(OtlpReceiver.ProjectHeader), Flight.FlightAuthenticator.AddressOf(context.Peer), context.CancellationToken);
            var rows = await receiver.WriteAsync(map(receiver.NowMicros), access, context.CancellationToken);
            return respond(rows);
        }
        catch (OtlpFailureException e)
        {
            throw ToRpc(e, receiver.Options.RetryAfter);
        }
    }

    /// <summary>The gRPC error for a failure, with retry info when the sender should come back.</summary>
    public static RpcException ToRpc(OtlpFailureException e, TimeSpan retryAfter)
    {
        var code = e.Kind switch
        {
            OtlpFailureKind.Unauthenticated => StatusCode.Unauthenticated,
            OtlpFailureKind.PermissionDenied => StatusCode.PermissionDenied,
            OtlpFailureKind.Invalid or OtlpFailureKind.Unsupported => StatusCode.InvalidArgument,
            OtlpFailureKind.TooLarge or OtlpFailureKind.Throttled => StatusCode.ResourceExhausted,
            OtlpFailureKind.Unavailable => StatusCode.Unavailable,
            _ => StatusCode.Internal,
        };
        var trailers = new Metadata();
        if (e.IsRetryable)
        {
            var details = new RpcStatus { Code = (int)code, Message = e.Message };
            details.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }));
            trailers.Add(StatusDetailsTrailer, details.ToByteArray());
        }
        return new RpcException(new Status(code, e.Message), trailers);
    }
}
