namespace TimeFusion.Client.Cli.Gen;

/// <summary>One generated row of <c>otel_logs_and_spans</c>: a span or a log record (null fields are NULL).</summary>
public sealed class TelemetryRecord
{
    /// <summary>Start of the span, or time of the log record (UTC).</summary>
    public DateTime Timestamp { get; set; }
    /// <summary>When the collector saw it.</summary>
    public DateTime ObservedTimestamp { get; set; }
    /// <summary>A unique row id (UUID).</summary>
    public string Id { get; set; } = "";
    /// <summary>The parent span's id (hex), for child spans.</summary>
    public string? ParentId { get; set; }
    /// <summary>Span name (<c>GET /api/products</c>, <c>SELECT products</c>); log records: the logger name.</summary>
    public string? Name { get; set; }
    /// <summary>Span kind (<c>SERVER</c>, <c>CLIENT</c>, <c>INTERNAL</c>); null for logs.</summary>
    public string? Kind { get; set; }
    /// <summary>Span status (<c>OK</c>, <c>ERROR</c>, <c>UNSET</c>).</summary>
    public string? StatusCode { get; set; }
    /// <summary>Status message of failed spans.</summary>
    public string? StatusMessage { get; set; }
    /// <summary>INFO, WARN or ERROR.</summary>
    public string Level { get; set; } = "INFO";
    /// <summary>Log severity text.</summary>
    public string? SeverityText { get; set; }
    /// <summary>Log severity number (OTLP: INFO 9, WARN 13, ERROR 17).</summary>
    public int? SeverityNumber { get; set; }
    /// <summary>Log body as JSON (a string value).</summary>
    public string? Body { get; set; }
    /// <summary>Span duration in nanoseconds.</summary>
    public long? DurationNanos { get; set; }
    /// <summary>Span start.</summary>
    public DateTime? StartTime { get; set; }
    /// <summary>Span end.</summary>
    public DateTime? EndTime { get; set; }
    /// <summary>Trace id (32 hex digits).</summary>
    public string TraceId { get; set; } = "";
    /// <summary>Span id (16 hex digits): the span's own, or for a log the span it was written in.</summary>
    public string SpanId { get; set; } = "";
    /// <summary>Attributes as a JSON object.</summary>
    public string Attributes { get; set; } = "{}";
    /// <summary>http.request.method.</summary>
    public string? HttpMethod { get; set; }
    /// <summary>http.response.status_code.</summary>
    public int? HttpStatusCode { get; set; }
    /// <summary>url.path.</summary>
    public string? UrlPath { get; set; }
    /// <summary>db.system.name.</summary>
    public string? DbSystem { get; set; }
    /// <summary>db.query.text.</summary>
    public string? DbQuery { get; set; }
    /// <summary>exception.type.</summary>
    public string? ExceptionType { get; set; }
    /// <summary>exception.message.</summary>
    public string? ExceptionMessage { get; set; }
    /// <summary>Resource attributes as a JSON object.</summary>
    public string Resource { get; set; } = "{}";
    /// <summary>service.name.</summary>
    public string ServiceName { get; set; } = "";
    /// <summary>service.version.</summary>
    public string ServiceVersion { get; set; } = "";
    /// <summary>service.instance.id.</summary>
    public string ServiceInstance { get; set; } = "";
    /// <summary>The project (tenant).</summary>
    public string ProjectId { get; set; } = "";
    /// <summary>True for a log record, false for a span.</summary>
    public bool IsLog { get; set; }
}
