using Grpc.Core;
using TimeFusion.Otlp.Collector.Metrics.V1;
using TimeFusion.Silo.Protocol.Otlp.Mapping;

namespace TimeFusion.Silo.Protocol.Otlp.Grpc;

/// <summary><c>/opentelemetry.proto.collector.metrics.v1.MetricsService/Export</c>: OTLP metrics over gRPC.</summary>
internal sealed class OtlpMetricsGrpcService(OtlpReceiver receiver) : MetricsService.MetricsServiceBase
{
    /// <inheritdoc />
    public override Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context) =>
        OtlpGrpcCalls.ExportAsync(receiver, context, _ => MetricMapper.Map(request), rows => new ExportMetricsServiceResponse
        {
            PartialSuccess = rows.Rejected == 0 ? null : new ExportMetricsPartialSuccess { RejectedDataPoints = rows.Rejected, ErrorMessage = rows.Error ?? "" },
        });
}
