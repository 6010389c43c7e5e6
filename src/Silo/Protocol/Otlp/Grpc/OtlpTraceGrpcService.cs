using Grpc.Core;
using TimeFusion.Otlp.Collector.Trace.V1;
using TimeFusion.Silo.Protocol.Otlp.Mapping;

namespace TimeFusion.Silo.Protocol.Otlp.Grpc;

/// <summary><c>/opentelemetry.proto.collector.trace.v1.TraceService/Export</c>: OTLP traces over gRPC.</summary>
internal sealed class OtlpTraceGrpcService(OtlpReceiver receiver) : TraceService.TraceServiceBase
{
    /// <inheritdoc />
    public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context) =>
        OtlpGrpcCalls.ExportAsync(receiver, context, _ => SpanMapper.Map(request), rows => new ExportTraceServiceResponse
        {
            PartialSuccess = rows.Rejected == 0 ? null : new ExportTracePartialSuccess { RejectedSpans = rows.Rejected, ErrorMessage = rows.Error ?? "" },
        });
}
