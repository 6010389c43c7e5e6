namespace TimeFusion.Tables;

/// <summary>
/// The built-in <c>otel_metrics</c> table: one row per OpenTelemetry metric data point (gauge, sum, histogram,
/// exponential histogram, summary), as the OTLP receiver writes them. Columns a kind does not use stay null; lists
/// (bucket counts, bounds, quantiles) are JSON arrays, as the engine has no numeric list type.
/// </summary>
public static class OtelMetrics
{
    /// <summary>The table name.</summary>
    public const string TableName = "otel_metrics";

    private static readonly ColumnDefinition[] Columns =
    [
        new("date", ColumnType.Date, Nullable: false),
        new("timestamp", ColumnType.TimestampUs, Nullable: false),
        new("start_timestamp", ColumnType.TimestampUs),
        new("metric_name", ColumnType.Utf8, Nullable: false),
        new("metric_description", ColumnType.Utf8),
        new("metric_unit", ColumnType.Utf8),
        // gauge, sum, histogram, exponential_histogram or summary.
        new("metric_type", ColumnType.Utf8, Nullable: false),
        // DELTA, CUMULATIVE or UNSPECIFIED (sum and histograms); null for gauge and summary.
        new("aggregation_temporality", ColumnType.Utf8),
        new("is_monotonic", ColumnType.Boolean),
        new("value", ColumnType.Float64),
        new("count", ColumnType.Int64),
        new("sum", ColumnType.Float64),
        new("min", ColumnType.Float64),
        new("max", ColumnType.Float64),
        new("bucket_counts", ColumnType.Json),
        new("explicit_bounds", ColumnType.Json),
        new("exp_scale", ColumnType.Int32),
        new("exp_zero_count", ColumnType.Int64),
        new("exp_zero_threshold", ColumnType.Float64),
        new("exp_positive_offset", ColumnType.Int32),
        new("exp_positive_bucket_counts", ColumnType.Json),
        new("exp_negative_offset", ColumnType.Int32),
        new("exp_negative_bucket_counts", ColumnType.Json),
        new("quantiles", ColumnType.Json),
        new("flags", ColumnType.Int32),
        new("attributes", ColumnType.Json),
        new("scope_name", ColumnType.Utf8),
        new("scope_version", ColumnType.Utf8),
        new("resource", ColumnType.Json),
        new("resource___service___name", ColumnType.Utf8),
        new("resource___service___namespace", ColumnType.Utf8),
        new("resource___service___instance___id", ColumnType.Utf8),
        new("project_id", ColumnType.Utf8, Nullable: false),
    ];

    /// <summary>The schema of the built-in table.</summary>
    public static TableSchema Schema { get; } = TableSchema.Create(TableName, Columns);
}
