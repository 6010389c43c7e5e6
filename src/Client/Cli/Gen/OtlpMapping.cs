using System.Text.Json;
using Google.Protobuf;
using TimeFusion.Otlp.Common.V1;
using TimeFusion.Otlp.Logs.V1;
using TimeFusion.Otlp.Trace.V1;
using OtlpResource = TimeFusion.Otlp.Resource.V1.Resource;

namespace TimeFusion.Client.Cli.Gen;

/// <summary>Generated rows as OTLP messages: spans and log records grouped by resource (service instance).</summary>
public static class OtlpMapping
{
    private static readonly InstrumentationScope Scope = new() { Name = "timefusion-gen", Version = "1.0" };

    /// <summary>The spans among <paramref name="records"/> as an OTLP trace export.</summary>
    public static Otlp.Collector.Trace.V1.ExportTraceServiceRequest Traces(IEnumerable<TelemetryRecord> records)
    {
        var request = new Otlp.Collector.Trace.V1.ExportTraceServiceRequest();
        foreach (var group in records.Where(r => !r.IsLog).GroupBy(r => r.Resource, StringComparer.Ordinal))
        {
            var scope = new ScopeSpans { Scope = Scope };
            scope.Spans.AddRange(group.Select(Span));
            request.ResourceSpans.Add(new ResourceSpans { Resource = Resource(group.Key), ScopeSpans = { scope } });
        }
        return request;
    }

    /// <summary>The log records among <paramref name="records"/> as an OTLP logs export.</summary>
    public static Otlp.Collector.Logs.V1.ExportLogsServiceRequest Logs(IEnumerable<TelemetryRecord> records)
    {
        var request = new Otlp.Collector.Logs.V1.ExportLogsServiceRequest();
        foreach (var group in records.Where(r => r.IsLog).GroupBy(r => r.Resource, StringComparer.Ordinal))
        {
            var scope = new ScopeLogs { Scope = Scope };
            scope.LogRecords.AddRange(group.Select(Log));
            request.ResourceLogs.Add(new ResourceLogs { Resource = Resource(group.Key), ScopeLogs = { scope } });
        }
        return request;
    }

    private static Span Span(TelemetryRecord r)
    {
        var span = new Span
        {
            TraceId = Hex(r.TraceId),
            SpanId = Hex(r.SpanId),
            Name = r.Name ?? "",
            Kind = r.Kind switch { "SERVER" => Otlp.Trace.V1.Span.Types.SpanKind.Server, "CLIENT" => Otlp.Trace.V1.Span.Types.SpanKind.Client, _ => Otlp.Trace.V1.Span.Types.SpanKind.Internal },
            StartTimeUnixNano = Nanos(r.StartTime ?? r.Timestamp),
            EndTimeUnixNano = Nanos(r.EndTime ?? r.Timestamp),
            Status = new Status
            {
                Code = r.StatusCode == "ERROR" ? Status.Types.StatusCode.Error : Status.Types.StatusCode.Ok,
                Message = r.StatusMessage ?? "",
            },
        };
        if (r.ParentId is not null) span.ParentSpanId = Hex(r.ParentId);
        span.Attributes.AddRange(Attributes(r.Attributes));
        if (r.ExceptionType is not null)
        {
            span.Events.Add(new Span.Types.Event
            {
                Name = "exception",
                TimeUnixNano = Nanos(r.EndTime ?? r.Timestamp),
                Attributes = { Text("exception.type", r.ExceptionType), Text("exception.message", r.ExceptionMessage ?? "") },
            });
        }
        return span;
    }

    private static LogRecord Log(TelemetryRecord r)
    {
        var log = new LogRecord
        {
            TimeUnixNano = Nanos(r.Timestamp),
            ObservedTimeUnixNano = Nanos(r.ObservedTimestamp),
            SeverityNumber = (SeverityNumber)(r.SeverityNumber ?? 0),
            SeverityText = r.SeverityText ?? "",
            Body = new AnyValue { StringValue = r.Body is null ? "" : JsonSerializer.Deserialize<string>(r.Body) ?? "" },
            TraceId = Hex(r.TraceId),
            SpanId = Hex(r.SpanId),
        };
        log.Attributes.AddRange(Attributes(r.Attributes));
        if (r.ExceptionMessage is not null) log.Attributes.Add(Text("exception.message", r.ExceptionMessage));
        return log;
    }

    private static OtlpResource Resource(string json)
    {
        var resource = new OtlpResource();
        resource.Attributes.AddRange(Attributes(json));
        return resource;
    }

    /// <summary>A flat JSON object of strings and numbers as OTLP attributes.</summary>
    private static IEnumerable<KeyValue> Attributes(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var list = new List<KeyValue>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            var value = p.Value.ValueKind switch
            {
                JsonValueKind.Number when p.Value.TryGetInt64(out var n) => new AnyValue { IntValue = n },
                JsonValueKind.Number => new AnyValue { DoubleValue = p.Value.GetDouble() },
                JsonValueKind.True or JsonValueKind.False => new AnyValue { BoolValue = p.Value.GetBoolean() },
                _ => new AnyValue { StringValue = p.Value.ToString() },
            };
            list.Add(new KeyValue { Key = p.Name, Value = value });
        }
        return list;
    }

    private static KeyValue Text(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static ByteString Hex(string hex) => ByteString.CopyFrom(Convert.FromHexString(hex));

    private static ulong Nanos(DateTime t) => (ulong)(t - DateTime.UnixEpoch).Ticks * 100;
}
