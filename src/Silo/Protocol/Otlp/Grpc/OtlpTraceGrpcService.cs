using Google.Protobuf;
using Grpc.Core;
using TimeFusion.Otlp.Collector.Trace.V1;
using TimeFusion.Silo.Protocol.Otlp.Mapping;

namespace TimeFusion.Silo.Protocol.Otlp.Grpc;

/// <summary>
/// <c>/opentelemetry.proto.collector.trace.v1.TraceService/Export</c>: OTLP traces over gRPC. Bound by hand (as the
/// generated <c>TraceService.BindService</c> would be) so that the request arrives as its bytes (<see cref="OtlpPayload"/>)
/// for the fast decoder rather than as a generated message tree.
/// </summary>
[BindServiceMethod(typeof(OtlpTraceExport), nameof(BindService))]
internal abstract class OtlpTraceExport
{
    private static readonly Method<OtlpPayload, ExportTraceServiceResponse> ExportMethod = new(MethodType.Unary,
        "opentelemetry.proto.collector.trace.v1.TraceService", "Export", OtlpPayload.Marshaller,
        Marshallers.Create<ExportTraceServiceResponse>(r => r.ToByteArray(), b => ExportTraceServiceResponse.Parser.ParseFrom(b)));

    /// <summary>Handles one export.</summary>
    public abstract Task<ExportTraceServiceResponse> Export(OtlpPayload request, ServerCallContext context);

    /// <summary>Registers the method (called by gRPC's service discovery with a null service).</summary>
    public static void BindService(ServiceBinderBase binder, OtlpTraceExport? service) =>
        binder.AddMethod(ExportMethod, service is null ? null! : service.Export);
}

/// <inheritdoc cref="OtlpTraceExport"/>
internal sealed class OtlpTraceGrpcService(OtlpReceiver receiver) : OtlpTraceExport
{
    /// <inheritdoc />
    public override async Task<ExportTraceServiceResponse> Export(OtlpPayload request, ServerCallContext context)
    {
        using (request)
        {
            return await OtlpGrpcCalls.ExportAsync(receiver, context, _ => OtlpProtobuf.Traces(request.Array, 0, request.Length), rows => new ExportTraceServiceResponse
            {
                PartialSuccess = rows.Rejected == 0 ? null : new ExportTracePartialSuccess { RejectedSpans = rows.Rejected, ErrorMessage = rows.Error ?? "" },
            });
        }
    }
}
