using Google.Protobuf;
using Grpc.Core;
using TimeFusion.Otlp.Collector.Logs.V1;
using TimeFusion.Silo.Protocol.Otlp.Mapping;

namespace TimeFusion.Silo.Protocol.Otlp.Grpc;

/// <summary>
/// <c>/opentelemetry.proto.collector.logs.v1.LogsService/Export</c>: OTLP logs over gRPC, bound by hand (as
/// <see cref="OtlpTraceExport"/>) so that the request arrives as its bytes for the fast decoder.
/// </summary>
[BindServiceMethod(typeof(OtlpLogsExport), nameof(BindService))]
internal abstract class OtlpLogsExport
{
    private static readonly Method<OtlpPayload, ExportLogsServiceResponse> ExportMethod = new(MethodType.Unary,
        "opentelemetry.proto.collector.logs.v1.LogsService", "Export", OtlpPayload.Marshaller,
        Marshallers.Create<ExportLogsServiceResponse>(r => r.ToByteArray(), b => ExportLogsServiceResponse.Parser.ParseFrom(b)));

    /// <summary>Handles one export.</summary>
    public abstract Task<ExportLogsServiceResponse> Export(OtlpPayload request, ServerCallContext context);

    /// <summary>Registers the method (called by gRPC's service discovery with a null service).</summary>
    public static void BindService(ServiceBinderBase binder, OtlpLogsExport? service) =>
        binder.AddMethod(ExportMethod, service is null ? null! : service.Export);
}

/// <inheritdoc cref="OtlpLogsExport"/>
internal sealed class OtlpLogsGrpcService(OtlpReceiver receiver) : OtlpLogsExport
{
    /// <inheritdoc />
    public override async Task<ExportLogsServiceResponse> Export(OtlpPayload request, ServerCallContext context)
    {
        using (request)
        {
            return await OtlpGrpcCalls.ExportAsync(receiver, context, now => OtlpProtobuf.Logs(request.Array, 0, request.Length, now), rows => new ExportLogsServiceResponse
            {
                PartialSuccess = rows.Rejected == 0 ? null : new ExportLogsPartialSuccess { RejectedLogRecords = rows.Rejected, ErrorMessage = rows.Error ?? "" },
            });
        }
    }
}
