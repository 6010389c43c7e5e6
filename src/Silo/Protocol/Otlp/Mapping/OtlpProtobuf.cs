using Google.Protobuf;
using TimeFusion.Otlp.Collector.Logs.V1;
using TimeFusion.Otlp.Collector.Trace.V1;
using TimeFusion.Silo.Protocol.Otlp.Mapping.Wire;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>
/// OTLP protobuf exports (OTLP/gRPC and OTLP/HTTP protobuf bodies) → rows: the fast decoders that read the bytes straight
/// into columns, or — for the few request shapes they leave alone (<see cref="OtlpWireReader"/>) and for malformed
/// bodies — the generated messages and the message mappers, which decide as they always did.
/// </summary>
internal static class OtlpProtobuf
{
    /// <summary>Maps an <c>ExportTraceServiceRequest</c>; throws <see cref="OtlpFailureException"/> (invalid) for a malformed one.</summary>
    public static MappedRows Traces(byte[] buffer, int offset, int length)
    {
        try
        {
            return SpanWireMapper.Map(buffer, offset, length);
        }
        catch (Exception e) when (e is WireFallbackException or InvalidProtocolBufferException)
        {
            // Decided below by the generated decoder.
        }
        return SpanMapper.Map(Parse(ExportTraceServiceRequest.Parser, buffer, offset, length));
    }

    /// <summary>Maps an <c>ExportLogsServiceRequest</c>; throws <see cref="OtlpFailureException"/> (invalid) for a malformed one.</summary>
    public static MappedRows Logs(byte[] buffer, int offset, int length, long nowMicros)
    {
        try
        {
            return LogWireMapper.Map(buffer, offset, length, nowMicros);
        }
        catch (Exception e) when (e is WireFallbackException or InvalidProtocolBufferException)
        {
            // Decided below by the generated decoder.
        }
        return LogMapper.Map(Parse(ExportLogsServiceRequest.Parser, buffer, offset, length), nowMicros);
    }

    private static T Parse<T>(MessageParser<T> parser, byte[] buffer, int offset, int length) where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(buffer, offset, length);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OtlpFailureException(OtlpFailureKind.Invalid, "the body is not valid OTLP protobuf: " + e.Message);
        }
    }
}
