using TimeFusion.Otlp.Collector.Trace.V1;
using TimeFusion.Otlp.Trace.V1;
using TimeFusion.Tables;
using static TimeFusion.Silo.Protocol.Otlp.Mapping.LogsAndSpansRows;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>
/// Spans → rows of <c>otel_logs_and_spans</c> (README "OTLP ingest" has the table). A span whose trace or span id is
/// not 16/8 non-zero bytes, or whose start lies beyond what a table holds, is refused on its own (partial success).
/// </summary>
internal static class SpanMapper
{
    private static readonly byte[][] KindNames =
        ["UNSPECIFIED"u8.ToArray(), "INTERNAL"u8.ToArray(), "SERVER"u8.ToArray(), "CLIENT"u8.ToArray(), "PRODUCER"u8.ToArray(), "CONSUMER"u8.ToArray()];

    private static readonly byte[][] StatusNames = ["UNSET"u8.ToArray(), "OK"u8.ToArray(), "ERROR"u8.ToArray()];

    /// <summary>Maps every span of the request.</summary>
    public static MappedRows Map(ExportTraceServiceRequest request)
    {
        var spans = 0;
        foreach (var r in request.ResourceSpans)
            foreach (var s in r.ScopeSpans) spans += s.Spans.Count;
        var target = new LogsAndSpansRows(spans);
        var rows = target.Rows;
        var rejected = new Rejections();
        foreach (var resourceSpans in request.ResourceSpans)
        {
            target.UseResource(resourceSpans.Resource);
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                foreach (var span in scopeSpans.Spans)
                {
                    if (Write(target, span) is { } reason)
                    {
                        rows.AbandonRow();
                        rejected.Add(reason);
                        continue;
                    }
                    rows.EndRow();
                }
            }
        }
        return new MappedRows(OtelLogsAndSpans.TableName, rows.Count == 0 ? null : rows.Build(), rejected.Count, rejected.First, rows);
    }

    private static string? Write(LogsAndSpansRows t, Span span)
    {
        var rows = t.Rows;
        if (span.TraceId.Length != 16 || HexId.IsZero(span.TraceId.Span)) return "a span's trace_id must be 16 bytes, not all zero";
        if (span.SpanId.Length != 8 || HexId.IsZero(span.SpanId.Span)) return "a span's span_id must be 8 bytes, not all zero";
        if (span.ParentSpanId.Length is not (0 or 8)) return "a span's parent_span_id must be empty or 8 bytes";
        if (!OtlpTime.TryMicros(span.StartTimeUnixNano, out var start) || !OtlpTime.TryMicros(span.EndTimeUnixNano, out var end))
            return "a span's start or end time lies beyond 2262-04-11";

        rows.TimestampMicros(Timestamp, start);
        rows.TimestampMicros(StartTime, start);
        rows.TimestampMicros(EndTime, end);
        if (span.EndTimeUnixNano >= span.StartTimeUnixNano) rows.Int64(Duration, (long)(span.EndTimeUnixNano - span.StartTimeUnixNano));
        t.Hex(Id, span.SpanId);
        if (span.ParentSpanId.Length == 8 && !HexId.IsZero(span.ParentSpanId.Span)) t.Hex(ParentId, span.ParentSpanId);
        rows.String(Name, span.Name);
        var kind = (int)span.Kind;
        rows.Utf8(Kind, KindNames[kind is >= 0 and < 6 ? kind : 0]);
        var status = (int)(span.Status?.Code ?? Status.Types.StatusCode.Unset);
        rows.Utf8(StatusCode, StatusNames[status is >= 0 and < 3 ? status : 0]);
        if (!string.IsNullOrEmpty(span.Status?.Message)) rows.String(StatusMessage, span.Status.Message);
        rows.Utf8(Level, status == 2 ? "ERROR"u8 : "INFO"u8);

        t.Hex(TraceId, span.TraceId);
        t.Hex(SpanId, span.SpanId);
        if (span.TraceState.Length > 0) rows.String(TraceState, span.TraceState);
        t.Flags(span.Flags);
        var hasRemote = (span.Flags & (uint)SpanFlags.ContextHasIsRemoteMask) != 0;
        var isRemote = (span.Flags & (uint)SpanFlags.ContextIsRemoteMask) != 0;
        if (hasRemote) rows.Boolean(IsRemote, isRemote);
        WriteContext(t, span, hasRemote, isRemote);

        if (span.Events.Count > 0) WriteEvents(t, span);
        if (span.Links.Count > 0) WriteLinks(t, span);
        rows.Utf8(AttributesJson, t.Json.Object(span.Attributes));
        Attributes.Fill(rows, span.Attributes);
        t.WriteResource();
        return null;
    }

    private static void WriteContext(LogsAndSpansRows t, Span span, bool hasRemote, bool isRemote)
    {
        Span<byte> hex = stackalloc byte[32];
        var w = t.Json.Begin();
        w.WriteStartObject();
        w.WriteString("trace_id"u8, HexId.Write(span.TraceId.Span, hex));
        w.WriteString("span_id"u8, HexId.Write(span.SpanId.Span, hex));
        if (span.TraceState.Length > 0) w.WriteString("trace_state"u8, span.TraceState);
        Span<byte> one = [(byte)(span.Flags & 0xFF)];
        w.WriteString("trace_flags"u8, HexId.Write(one, hex));
        if (hasRemote) w.WriteBoolean("is_remote"u8, isRemote);
        w.WriteEndObject();
        t.Rows.Utf8(Context, t.Json.End());
    }

    private static void WriteEvents(LogsAndSpansRows t, Span span)
    {
        var w = t.Json.Begin();
        w.WriteStartArray();
        foreach (var e in span.Events)
        {
            w.WriteStartObject();
            w.WriteString("name"u8, e.Name);
            w.WriteNumber("time_unix_nano"u8, e.TimeUnixNano);
            w.WritePropertyName("attributes"u8);
            t.Json.WriteObject(e.Attributes);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        t.Rows.Utf8(Events, t.Json.End());
    }

    private static void WriteLinks(LogsAndSpansRows t, Span span)
    {
        Span<byte> hex = stackalloc byte[64];
        var w = t.Json.Begin();
        w.WriteStartArray();
        foreach (var link in span.Links)
        {
            w.WriteStartObject();
            w.WriteString("trace_id"u8, HexId.Write(link.TraceId.Span[..Math.Min(32, link.TraceId.Length)], hex));
            w.WriteString("span_id"u8, HexId.Write(link.SpanId.Span[..Math.Min(32, link.SpanId.Length)], hex));
            if (link.TraceState.Length > 0) w.WriteString("trace_state"u8, link.TraceState);
            w.WritePropertyName("attributes"u8);
            t.Json.WriteObject(link.Attributes);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        t.Rows.Utf8(Links, t.Json.End());
    }
}
