using TimeFusion.Tables;
using SpanFlags = TimeFusion.Otlp.Trace.V1.SpanFlags;
using static TimeFusion.Silo.Protocol.Otlp.Mapping.LogsAndSpansRows;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping.Wire;

/// <summary>
/// An <c>ExportTraceServiceRequest</c> in protobuf → rows of <c>otel_logs_and_spans</c>, decoded with
/// <see cref="OtlpWireReader"/> straight into the column builders: the same rows <see cref="SpanMapper"/> makes from the
/// generated messages (README "OTLP ingest"), without a message object or a string per field. Ids are hex-encoded from
/// the request's bytes, names and attribute strings copied as UTF-8, attribute JSON written from the wire, and the
/// resource's JSON and flattened columns worked out once per resource.
/// </summary>
internal static class SpanWireMapper
{
    private static readonly byte[][] KindNames =
        ["UNSPECIFIED"u8.ToArray(), "INTERNAL"u8.ToArray(), "SERVER"u8.ToArray(), "CLIENT"u8.ToArray(), "PRODUCER"u8.ToArray(), "CONSUMER"u8.ToArray()];

    private static readonly byte[][] StatusNames = ["UNSET"u8.ToArray(), "OK"u8.ToArray(), "ERROR"u8.ToArray()];

    /// <summary>Maps the spans of the request in <paramref name="buffer"/>; throws <see cref="WireFallbackException"/> or
    /// <see cref="Google.Protobuf.InvalidProtocolBufferException"/> when the generated decoder must rule instead.</summary>
    public static MappedRows Map(byte[] buffer, int offset, int length) => WireExport.Map(buffer, offset, length, default(SpanItem));

    private readonly struct SpanItem : IWireItemMapper
    {
        public void Read(OtlpWireReader r, WireExport export, int end, ref int depth) => ReadSpan(r, export, end, ref depth);
    }

    private static void ReadSpan(OtlpWireReader r, WireExport s, int end, ref int depth)
    {
        var t = s.Target;
        var rows = t.Rows;
        ReadOnlySpan<byte> traceId = default, spanId = default, parentId = default, traceState = default, name = default, statusMessage = default;
        uint flags = 0;
        int kind = 0, status = 0;
        ulong startNanos = 0, endNanos = 0;
        bool statusSeen = false, hasEvents = false, hasLinks = false;
        var attributes = s.AttributeJson.Begin();
        attributes.WriteStartObject();
        while (r.More(end))
        {
            switch (r.ReadTag())
            {
                case 10: traceId = r.Bytes(); break;
                case 18: spanId = r.Bytes(); break;
                case 26: traceState = r.Utf8(); break;
                case 34: parentId = r.Bytes(); break;
                case 133: flags = r.Fixed32(); break;
                case 42: name = r.Utf8(); break;
                case 48: kind = r.Enum(); break;
                case 57: startNanos = r.Fixed64(); break;
                case 65: endNanos = r.Fixed64(); break;
                case 74: // attributes: JSON, and the flattened columns of this row (first value wins, as in SpanMapper)
                    var kvEnd = r.Enter(ref depth);
                    WireValues.KeyValue(r, attributes, kvEnd, ref depth, Attributes, rows);
                    r.Leave(kvEnd, ref depth);
                    break;
                case 90:
                    if (!hasEvents) s.EventJson.Begin().WriteStartArray();
                    hasEvents = true;
                    var eventEnd = r.Enter(ref depth);
                    Event(r, s, eventEnd, ref depth);
                    r.Leave(eventEnd, ref depth);
                    break;
                case 106:
                    if (!hasLinks) s.LinkJson.Begin().WriteStartArray();
                    hasLinks = true;
                    var linkEnd = r.Enter(ref depth);
                    Link(r, s, linkEnd, ref depth);
                    r.Leave(linkEnd, ref depth);
                    break;
                case 122: // status (sent twice it would be merged: left to the generated decoder)
                    if (statusSeen) throw new WireFallbackException("status twice");
                    statusSeen = true;
                    var statusEnd = r.Enter(ref depth);
                    while (r.More(statusEnd))
                    {
                        switch (r.ReadTag())
                        {
                            case 18: statusMessage = r.Utf8(); break;
                            case 24: status = r.Enum(); break;
                            default: r.Skip(); break;
                        }
                    }
                    r.Leave(statusEnd, ref depth);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }

        if (Refusal(traceId, spanId, parentId, startNanos, endNanos, out var start, out var finish) is { } reason)
        {
            rows.AbandonRow();
            s.Rejected.Add(reason);
            return;
        }
        rows.TimestampMicros(Timestamp, start);
        rows.TimestampMicros(StartTime, start);
        rows.TimestampMicros(EndTime, finish);
        if (endNanos >= startNanos) rows.Int64(Duration, (long)(endNanos - startNanos));
        t.Hex(Id, spanId);
        if (parentId.Length == 8 && !HexId.IsZero(parentId)) t.Hex(ParentId, parentId);
        rows.Utf8(Name, name);
        rows.Utf8(Kind, KindNames[kind is >= 0 and < 6 ? kind : 0]);
        rows.Utf8(StatusCode, StatusNames[status is >= 0 and < 3 ? status : 0]);
        if (statusMessage.Length > 0) rows.Utf8(StatusMessage, statusMessage);
        rows.Utf8(Level, status == 2 ? "ERROR"u8 : "INFO"u8);

        t.Hex(TraceId, traceId);
        t.Hex(SpanId, spanId);
        if (traceState.Length > 0) rows.Utf8(TraceState, traceState);
        t.Flags(flags);
        var hasRemote = (flags & (uint)SpanFlags.ContextHasIsRemoteMask) != 0;
        var isRemote = (flags & (uint)SpanFlags.ContextIsRemoteMask) != 0;
        if (hasRemote) rows.Boolean(IsRemote, isRemote);
        WriteContext(t, traceId, spanId, traceState, flags, hasRemote, isRemote);

        if (hasEvents)
        {
            s.EventJson.Writer.WriteEndArray();
            rows.Utf8(Events, s.EventJson.End());
        }
        if (hasLinks)
        {
            s.LinkJson.Writer.WriteEndArray();
            rows.Utf8(Links, s.LinkJson.End());
        }
        attributes.WriteEndObject();
        rows.Utf8(AttributesJson, s.AttributeJson.End());
        s.WriteResource();
        rows.EndRow();
    }

    private static string? Refusal(ReadOnlySpan<byte> traceId, ReadOnlySpan<byte> spanId, ReadOnlySpan<byte> parentId, ulong startNanos, ulong endNanos,
        out long start, out long end)
    {
        start = end = 0;
        if (traceId.Length != 16 || HexId.IsZero(traceId)) return "a span's trace_id must be 16 bytes, not all zero";
        if (spanId.Length != 8 || HexId.IsZero(spanId)) return "a span's span_id must be 8 bytes, not all zero";
        if (parentId.Length is not (0 or 8)) return "a span's parent_span_id must be empty or 8 bytes";
        if (!OtlpTime.TryMicros(startNanos, out start) || !OtlpTime.TryMicros(endNanos, out end))
            return "a span's start or end time lies beyond 2262-04-11";
        return null;
    }

    private static void WriteContext(LogsAndSpansRows t, ReadOnlySpan<byte> traceId, ReadOnlySpan<byte> spanId, ReadOnlySpan<byte> traceState,
        uint flags, bool hasRemote, bool isRemote)
    {
        Span<byte> hex = stackalloc byte[32];
        var w = t.Json.Begin();
        w.WriteStartObject();
        w.WriteString("trace_id"u8, HexId.Write(traceId, hex));
        w.WriteString("span_id"u8, HexId.Write(spanId, hex));
        if (traceState.Length > 0) w.WriteString("trace_state"u8, traceState);
        Span<byte> one = [(byte)(flags & 0xFF)];
        w.WriteString("trace_flags"u8, HexId.Write(one, hex));
        if (hasRemote) w.WriteBoolean("is_remote"u8, isRemote);
        w.WriteEndObject();
        t.Rows.Utf8(Context, t.Json.End());
    }

    /// <summary>One event: <c>{"name", "time_unix_nano", "attributes"}</c> (SpanMapper's order); its name and time come first on the wire.</summary>
    private static void Event(OtlpWireReader r, WireExport s, int end, ref int depth)
    {
        var w = s.EventJson.Writer;
        ReadOnlySpan<byte> name = default;
        ulong time = 0;
        var started = false;
        while (r.More(end))
        {
            switch (r.ReadTag())
            {
                case 9:
                    if (started) throw new WireFallbackException("event time after its attributes");
                    time = r.Fixed64();
                    break;
                case 18:
                    if (started) throw new WireFallbackException("event name after its attributes");
                    name = r.Utf8();
                    break;
                case 26:
                    if (!started) StartEvent(w, name, time);
                    started = true;
                    var kvEnd = r.Enter(ref depth);
                    WireValues.KeyValue(r, w, kvEnd, ref depth, null, s.Target.Rows);
                    r.Leave(kvEnd, ref depth);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }
        if (!started) StartEvent(w, name, time);
        w.WriteEndObject();
        w.WriteEndObject();

        static void StartEvent(System.Text.Json.Utf8JsonWriter w, ReadOnlySpan<byte> name, ulong time)
        {
            w.WriteStartObject();
            w.WriteString("name"u8, name);
            w.WriteNumber("time_unix_nano"u8, time);
            w.WritePropertyName("attributes"u8);
            w.WriteStartObject();
        }
    }

    /// <summary>One link: <c>{"trace_id", "span_id", "trace_state"?, "attributes"}</c>; its ids and state come first on the wire.</summary>
    private static void Link(OtlpWireReader r, WireExport s, int end, ref int depth)
    {
        var w = s.LinkJson.Writer;
        ReadOnlySpan<byte> traceId = default, spanId = default, traceState = default;
        var started = false;
        while (r.More(end))
        {
            switch (r.ReadTag())
            {
                case 10:
                    if (started) throw new WireFallbackException("link id after its attributes");
                    traceId = r.Bytes();
                    break;
                case 18:
                    if (started) throw new WireFallbackException("link id after its attributes");
                    spanId = r.Bytes();
                    break;
                case 26:
                    if (started) throw new WireFallbackException("link state after its attributes");
                    traceState = r.Utf8();
                    break;
                case 34:
                    if (!started) StartLink(w, traceId, spanId, traceState);
                    started = true;
                    var kvEnd = r.Enter(ref depth);
                    WireValues.KeyValue(r, w, kvEnd, ref depth, null, s.Target.Rows);
                    r.Leave(kvEnd, ref depth);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }
        if (!started) StartLink(w, traceId, spanId, traceState);
        w.WriteEndObject();
        w.WriteEndObject();

        static void StartLink(System.Text.Json.Utf8JsonWriter w, ReadOnlySpan<byte> traceId, ReadOnlySpan<byte> spanId, ReadOnlySpan<byte> traceState)
        {
            Span<byte> hex = stackalloc byte[64];
            w.WriteStartObject();
            w.WriteString("trace_id"u8, HexId.Write(traceId[..Math.Min(32, traceId.Length)], hex));
            w.WriteString("span_id"u8, HexId.Write(spanId[..Math.Min(32, spanId.Length)], hex));
            if (traceState.Length > 0) w.WriteString("trace_state"u8, traceState);
            w.WritePropertyName("attributes"u8);
            w.WriteStartObject();
        }
    }
}
