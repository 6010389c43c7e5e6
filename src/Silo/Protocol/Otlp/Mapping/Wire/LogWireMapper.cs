using static TimeFusion.Silo.Protocol.Otlp.Mapping.LogsAndSpansRows;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping.Wire;

/// <summary>
/// An <c>ExportLogsServiceRequest</c> in protobuf → rows of <c>otel_logs_and_spans</c>, decoded with
/// <see cref="OtlpWireReader"/> straight into the column builders: the same rows <see cref="LogMapper"/> makes from the
/// generated messages (README "OTLP ingest"), without a message object or a string per field.
/// </summary>
internal static class LogWireMapper
{
    /// <summary>Maps the log records of the request in <paramref name="buffer"/>; <paramref name="nowMicros"/> stands in for
    /// records with no time. Throws <see cref="WireFallbackException"/> or
    /// <see cref="Google.Protobuf.InvalidProtocolBufferException"/> when the generated decoder must rule instead.</summary>
    public static MappedRows Map(byte[] buffer, int offset, int length, long nowMicros) =>
        WireExport.Map(buffer, offset, length, new LogItem(nowMicros));

    private readonly struct LogItem(long nowMicros) : IWireItemMapper
    {
        public void Read(OtlpWireReader r, WireExport export, int end, ref int depth) => ReadLog(r, export, end, ref depth, nowMicros);
    }

    private static void ReadLog(OtlpWireReader r, WireExport s, int end, ref int depth, long nowMicros)
    {
        var t = s.Target;
        var rows = t.Rows;
        ReadOnlySpan<byte> traceId = default, spanId = default, severityText = default, eventName = default;
        ulong timeNanos = 0, observedNanos = 0;
        var number = 0;
        uint flags = 0;
        var hasBody = false;
        var attributes = s.AttributeJson.Begin();
        attributes.WriteStartObject();
        while (r.More(end))
        {
            switch (r.ReadTag())
            {
                case 9: timeNanos = r.Fixed64(); break;
                case 89: observedNanos = r.Fixed64(); break;
                case 16: number = r.Enum(); break;
                case 26: severityText = r.Utf8(); break;
                case 42: // body (sent twice it would be merged: left to the generated decoder)
                    if (hasBody) throw new WireFallbackException("body twice");
                    hasBody = true;
                    var bodyEnd = r.Enter(ref depth);
                    WireValues.AnyValue(r, s.EventJson.Begin(), bodyEnd, ref depth);
                    s.EventJson.End();
                    r.Leave(bodyEnd, ref depth);
                    break;
                case 50: // attributes: JSON, and the flattened columns of this row (first value wins, as in LogMapper)
                    var kvEnd = r.Enter(ref depth);
                    WireValues.KeyValue(r, attributes, kvEnd, ref depth, Attributes, rows);
                    r.Leave(kvEnd, ref depth);
                    break;
                case 69: flags = r.Fixed32(); break;
                case 74: traceId = r.Bytes(); break;
                case 82: spanId = r.Bytes(); break;
                case 98: eventName = r.Utf8(); break;
                default: r.Skip(); break;
            }
        }

        if (Refusal(traceId, spanId, timeNanos, observedNanos, out var time, out var observed) is { } reason)
        {
            rows.AbandonRow();
            s.Rejected.Add(reason);
            return;
        }
        rows.TimestampMicros(Timestamp, timeNanos != 0 ? time : observedNanos != 0 ? observed : nowMicros);
        if (observedNanos != 0) rows.TimestampMicros(ObservedTimestamp, observed);
        t.NewId();
        rows.Utf8(Kind, "LOG"u8);
        if (eventName.Length > 0) rows.Utf8(Name, eventName);

        if (severityText.Length > 0) rows.Utf8(Level, severityText);
        else rows.Utf8(Level, LogMapper.LevelOf(number));
        if (severityText.Length > 0) rows.Utf8(SeverityText, severityText);
        rows.Int32(SeverityNumberColumn, number);
        var w = t.Json.Begin();
        w.WriteStartObject();
        if (severityText.Length > 0) w.WriteString("text"u8, severityText);
        w.WriteNumber("number"u8, number);
        w.WriteEndObject();
        rows.Utf8(Severity, t.Json.End());
        if (hasBody) rows.Utf8(Body, s.EventJson.Written);

        var hasTrace = traceId.Length == 16 && !HexId.IsZero(traceId);
        var hasSpan = spanId.Length == 8 && !HexId.IsZero(spanId);
        if (hasTrace)
        {
            t.Hex(TraceId, traceId);
            t.Flags(flags);
        }
        if (hasSpan)
        {
            t.Hex(SpanId, spanId);
            t.Hex(ParentId, spanId); // the span the record was written in: logs hang under their span
        }
        if (hasTrace || hasSpan)
        {
            Span<byte> hex = stackalloc byte[32];
            var c = t.Json.Begin();
            c.WriteStartObject();
            if (hasTrace) c.WriteString("trace_id"u8, HexId.Write(traceId, hex));
            if (hasSpan) c.WriteString("span_id"u8, HexId.Write(spanId, hex));
            if (hasTrace)
            {
                Span<byte> one = [(byte)(flags & 0xFF)];
                c.WriteString("trace_flags"u8, HexId.Write(one, hex));
            }
            c.WriteEndObject();
            rows.Utf8(Context, t.Json.End());
        }

        attributes.WriteEndObject();
        rows.Utf8(AttributesJson, s.AttributeJson.End());
        s.WriteResource();
        rows.EndRow();
    }

    private static string? Refusal(ReadOnlySpan<byte> traceId, ReadOnlySpan<byte> spanId, ulong timeNanos, ulong observedNanos, out long time, out long observed)
    {
        time = observed = 0;
        if (traceId.Length is not (0 or 16)) return "a log record's trace_id must be empty or 16 bytes";
        if (spanId.Length is not (0 or 8)) return "a log record's span_id must be empty or 8 bytes";
        if (!OtlpTime.TryMicros(timeNanos, out time) || !OtlpTime.TryMicros(observedNanos, out observed))
            return "a log record's time lies beyond 2262-04-11";
        return null;
    }
}
