namespace TimeFusion.Client.Cli.Gen;

/// <summary>The kind of value a generated column holds.</summary>
public enum GenColumnKind
{
    /// <summary>Text (JSON columns too).</summary>
    Text,
    /// <summary>32-bit integer.</summary>
    Int32,
    /// <summary>64-bit integer.</summary>
    Int64,
    /// <summary>UTC timestamp (microseconds).</summary>
    Timestamp,
}

/// <summary>A column of the generated files: its <c>otel_logs_and_spans</c> name, kind and value.</summary>
public sealed record GenColumn(string Name, GenColumnKind Kind, Func<TelemetryRecord, object?> Value);

/// <summary>The columns <c>gen</c> writes, in file order — the one list every file writer uses.</summary>
public static class TelemetryColumns
{
    /// <summary>All columns.</summary>
    public static IReadOnlyList<GenColumn> All { get; } =
    [
        new("timestamp", GenColumnKind.Timestamp, r => r.Timestamp),
        new("observed_timestamp", GenColumnKind.Timestamp, r => r.ObservedTimestamp),
        new("id", GenColumnKind.Text, r => r.Id),
        new("parent_id", GenColumnKind.Text, r => r.ParentId),
        new("name", GenColumnKind.Text, r => r.Name),
        new("kind", GenColumnKind.Text, r => r.Kind),
        new("status_code", GenColumnKind.Text, r => r.StatusCode),
        new("status_message", GenColumnKind.Text, r => r.StatusMessage),
        new("level", GenColumnKind.Text, r => r.Level),
        new("severity___severity_text", GenColumnKind.Text, r => r.SeverityText),
        new("severity___severity_number", GenColumnKind.Int32, r => r.SeverityNumber),
        new("body", GenColumnKind.Text, r => r.Body),
        new("duration", GenColumnKind.Int64, r => r.DurationNanos),
        new("start_time", GenColumnKind.Timestamp, r => r.StartTime),
        new("end_time", GenColumnKind.Timestamp, r => r.EndTime),
        new("context___trace_id", GenColumnKind.Text, r => r.TraceId),
        new("context___span_id", GenColumnKind.Text, r => r.SpanId),
        new("attributes", GenColumnKind.Text, r => r.Attributes),
        new("attributes___http___request___method", GenColumnKind.Text, r => r.HttpMethod),
        new("attributes___http___response___status_code", GenColumnKind.Int32, r => r.HttpStatusCode),
        new("attributes___url___path", GenColumnKind.Text, r => r.UrlPath),
        new("attributes___db___system___name", GenColumnKind.Text, r => r.DbSystem),
        new("attributes___db___query___text", GenColumnKind.Text, r => r.DbQuery),
        new("attributes___exception___type", GenColumnKind.Text, r => r.ExceptionType),
        new("attributes___exception___message", GenColumnKind.Text, r => r.ExceptionMessage),
        new("resource", GenColumnKind.Text, r => r.Resource),
        new("resource___service___name", GenColumnKind.Text, r => r.ServiceName),
        new("resource___service___version", GenColumnKind.Text, r => r.ServiceVersion),
        new("resource___service___instance___id", GenColumnKind.Text, r => r.ServiceInstance),
        new("project_id", GenColumnKind.Text, r => r.ProjectId),
    ];
}
