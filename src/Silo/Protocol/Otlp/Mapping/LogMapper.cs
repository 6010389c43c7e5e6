using TimeFusion.Otlp.Collector.Logs.V1;
using TimeFusion.Otlp.Logs.V1;
using TimeFusion.Tables;
using static TimeFusion.Silo.Protocol.Otlp.Mapping.LogsAndSpansRows;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>
/// Log records → rows of <c>otel_logs_and_spans</c> with <c>kind</c> <c>LOG</c> (README "OTLP ingest" has the table).
/// A record's time is its own, else the time it was observed, else when it arrived. A record with a trace or span id
/// of the wrong length, or a time beyond what a table holds, is refused on its own (partial success).
/// </summary>
internal static class LogMapper
{
    private static readonly byte[][] Levels =
        ["UNSPECIFIED"u8.ToArray(), "TRACE"u8.ToArray(), "DEBUG"u8.ToArray(), "INFO"u8.ToArray(), "WARN"u8.ToArray(), "ERROR"u8.ToArray(), "FATAL"u8.ToArray()];

    /// <summary>The level of a record without severity text: its severity number's range (1–4 TRACE … 21–24 FATAL).</summary>
    internal static ReadOnlySpan<byte> LevelOf(int number) => Levels[number is >= 1 and <= 24 ? (number - 1) / 4 + 1 : 0];

    /// <summary>Maps every log record of the request; <paramref name="nowMicros"/> stands in for records with no time at all.</summary>
    public static MappedRows Map(ExportLogsServiceRequest request, long nowMicros)
    {
        var records = 0;
        foreach (var r in request.ResourceLogs)
            foreach (var s in r.ScopeLogs) records += s.LogRecords.Count;
        var target = new LogsAndSpansRows(records);
        var rows = target.Rows;
        var rejected = new Rejections();
        foreach (var resourceLogs in request.ResourceLogs)
        {
            target.UseResource(resourceLogs.Resource);
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                foreach (var record in scopeLogs.LogRecords)
                {
                    if (Write(target, record, nowMicros) is { } reason)
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

    private static string? Write(LogsAndSpansRows t, LogRecord record, long nowMicros)
    {
        var rows = t.Rows;
        if (record.TraceId.Length is not (0 or 16)) return "a log record's trace_id must be empty or 16 bytes";
        if (record.SpanId.Length is not (0 or 8)) return "a log record's span_id must be empty or 8 bytes";
        if (!OtlpTime.TryMicros(record.TimeUnixNano, out var time) || !OtlpTime.TryMicros(record.ObservedTimeUnixNano, out var observed))
            return "a log record's time lies beyond 2262-04-11";

        rows.TimestampMicros(Timestamp, record.TimeUnixNano != 0 ? time : record.ObservedTimeUnixNano != 0 ? observed : nowMicros);
        if (record.ObservedTimeUnixNano != 0) rows.TimestampMicros(ObservedTimestamp, observed);
        t.NewId();
        rows.Utf8(Kind, "LOG"u8);
        if (record.EventName.Length > 0) rows.String(Name, record.EventName);

        var number = (int)record.SeverityNumber;
        if (record.SeverityText.Length > 0) rows.String(Level, record.SeverityText);
        else rows.Utf8(Level, LevelOf(number));
        if (record.SeverityText.Length > 0) rows.String(SeverityText, record.SeverityText);
        rows.Int32(SeverityNumberColumn, number);
        var w = t.Json.Begin();
        w.WriteStartObject();
        if (record.SeverityText.Length > 0) w.WriteString("text"u8, record.SeverityText);
        w.WriteNumber("number"u8, number);
        w.WriteEndObject();
        rows.Utf8(Severity, t.Json.End());
        if (record.Body is not null) rows.Utf8(Body, t.Json.Value(record.Body));

        var hasTrace = record.TraceId.Length == 16 && !HexId.IsZero(record.TraceId.Span);
        var hasSpan = record.SpanId.Length == 8 && !HexId.IsZero(record.SpanId.Span);
        if (hasTrace)
        {
            t.Hex(TraceId, record.TraceId);
            t.Flags(record.Flags);
        }
        if (hasSpan)
        {
            t.Hex(SpanId, record.SpanId);
            t.Hex(ParentId, record.SpanId); // the span the record was written in: logs hang under their span
        }
        if (hasTrace || hasSpan)
        {
            Span<byte> hex = stackalloc byte[32];
            var c = t.Json.Begin();
            c.WriteStartObject();
            if (hasTrace) c.WriteString("trace_id"u8, HexId.Write(record.TraceId.Span, hex));
            if (hasSpan) c.WriteString("span_id"u8, HexId.Write(record.SpanId.Span, hex));
            if (hasTrace)
            {
                Span<byte> one = [(byte)(record.Flags & 0xFF)];
                c.WriteString("trace_flags"u8, HexId.Write(one, hex));
            }
            c.WriteEndObject();
            rows.Utf8(Context, t.Json.End());
        }

        rows.Utf8(AttributesJson, t.Json.Object(record.Attributes));
        Attributes.Fill(rows, record.Attributes);
        t.WriteResource();
        return null;
    }
}
