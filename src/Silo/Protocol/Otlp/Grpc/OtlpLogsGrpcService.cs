using Grpc.Core;
using TimeFusion.Otlp.Collector.Logs.V1;
using TimeFusion.Silo.Protocol.Otlp.Mapping;

namespace TimeFusion.Silo.Protocol.Otlp.Grpc;

/// <summary><c>/opentelemetry.proto.collector.logs.v1.LogsService/Export</c>: OTLP logs over gRPC.</summary>
internal sealed class OtlpLogsGrpcService(OtlpReceiver receiver) : LogsService.LogsServiceBase
{
    /// <inheritdoc />
    public override Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request, ServerCallContext context) =>
        OtlpGrpcCalls.ExportAsync(receiver, context, now => LogMapper.Map(request, now), rows => new ExportLogsServiceResponse
        {
            PartialSuccess = rows.Rejected == 0 ? null : new ExportLogsPartialSuccess { RejectedLogRecords = rows.Rejected, ErrorMessage = rows.Error ?? "" },
        });
}
