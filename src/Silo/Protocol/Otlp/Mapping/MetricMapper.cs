using Google.Protobuf.Collections;
using TimeFusion.Otlp.Collector.Metrics.V1;
using TimeFusion.Otlp.Common.V1;
using TimeFusion.Otlp.Metrics.V1;
using TimeFusion.Otlp.Resource.V1;
using TimeFusion.Tables;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>
/// Metric data points → rows of <c>otel_metrics</c>, one row per point (README "OTLP ingest" has the table). A metric
/// with no data kind, or a point whose time lies beyond what a table holds, is refused (partial success counts points).
/// </summary>
internal static class MetricMapper
{
    private static readonly TableSchema Table = OtelMetrics.Schema;

    private static readonly int Timestamp = Ord("timestamp"), StartTimestamp = Ord("start_timestamp"), Name = Ord("metric_name"),
        Description = Ord("metric_description"), Unit = Ord("metric_unit"), Type = Ord("metric_type"),
        Temporality = Ord("aggregation_temporality"), IsMonotonic = Ord("is_monotonic"), Value = Ord("value"), Count = Ord("count"),
        Sum = Ord("sum"), Min = Ord("min"), Max = Ord("max"), BucketCounts = Ord("bucket_counts"), ExplicitBounds = Ord("explicit_bounds"),
        ExpScale = Ord("exp_scale"), ExpZeroCount = Ord("exp_zero_count"), ExpZeroThreshold = Ord("exp_zero_threshold"),
        ExpPositiveOffset = Ord("exp_positive_offset"), ExpPositiveCounts = Ord("exp_positive_bucket_counts"),
        ExpNegativeOffset = Ord("exp_negative_offset"), ExpNegativeCounts = Ord("exp_negative_bucket_counts"),
        Quantiles = Ord("quantiles"), Flags = Ord("flags"), Attributes = Ord("attributes"), ScopeName = Ord("scope_name"),
        ScopeVersion = Ord("scope_version"), ResourceJson = Ord("resource");

    private static readonly FlattenedColumns ResourceColumns = new(Table, "resource___");

    private static readonly byte[][] TemporalityNames = ["UNSPECIFIED"u8.ToArray(), "DELTA"u8.ToArray(), "CUMULATIVE"u8.ToArray()];

    /// <summary>Maps every data point of the request.</summary>
    public static MappedRows Map(ExportMetricsServiceRequest request)
    {
        var m = new State();
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            m.Resource = resourceMetrics.Resource;
            m.ResourceJson = resourceMetrics.Resource is null ? "{}"u8.ToArray() : m.Json.Object(resourceMetrics.Resource.Attributes).ToArray();
            foreach (var scope in resourceMetrics.ScopeMetrics)
            {
                m.Scope = scope.Scope;
                foreach (var metric in scope.Metrics) MapMetric(m, metric);
            }
        }
        var rows = m.Rows;
        return new MappedRows(OtelMetrics.TableName, rows.Count == 0 ? null : rows.Build(), m.Rejected.Count, m.Rejected.First, rows);
    }

    private static void MapMetric(State m, Metric metric)
    {
        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge:
                foreach (var p in metric.Gauge.DataPoints)
                    Point(m, metric, "gauge"u8, null, null, p.Attributes, p.StartTimeUnixNano, p.TimeUnixNano, p.Flags, r => Number(r, p));
                break;
            case Metric.DataOneofCase.Sum:
                foreach (var p in metric.Sum.DataPoints)
                    Point(m, metric, "sum"u8, metric.Sum.AggregationTemporality, metric.Sum.IsMonotonic, p.Attributes, p.StartTimeUnixNano, p.TimeUnixNano, p.Flags, r => Number(r, p));
                break;
            case Metric.DataOneofCase.Histogram:
                foreach (var p in metric.Histogram.DataPoints)
                    Point(m, metric, "histogram"u8, metric.Histogram.AggregationTemporality, null, p.Attributes, p.StartTimeUnixNano, p.TimeUnixNano, p.Flags, r => Histogram(m, p));
                break;
            case Metric.DataOneofCase.ExponentialHistogram:
                foreach (var p in metric.ExponentialHistogram.DataPoints)
                    Point(m, metric, "exponential_histogram"u8, metric.ExponentialHistogram.AggregationTemporality, null, p.Attributes, p.StartTimeUnixNano, p.TimeUnixNano, p.Flags, r => Exponential(m, p));
                break;
            case Metric.DataOneofCase.Summary:
                foreach (var p in metric.Summary.DataPoints)
                    Point(m, metric, "summary"u8, null, null, p.Attributes, p.StartTimeUnixNano, p.TimeUnixNano, p.Flags, r => Summary(m, p));
                break;
            default:
                m.Rejected.Add($"metric '{metric.Name}' has no data (gauge, sum, histogram, exponential_histogram or summary)");
                break;
        }
    }

    private static void Point(State m, Metric metric, ReadOnlySpan<byte> type, AggregationTemporality? temporality, bool? monotonic,
        RepeatedField<KeyValue> attributes, ulong startNanos, ulong timeNanos, uint flags, Action<ColumnarRows> values)
    {
        var rows = m.Rows;
        if (!OtlpTime.TryMicros(timeNanos, out var time) || !OtlpTime.TryMicros(startNanos, out var start))
        {
            m.Rejected.Add($"a data point of metric '{metric.Name}' has a time beyond 2262-04-11");
            return;
        }
        if (metric.Name.Length == 0)
        {
            m.Rejected.Add("a metric has no name");
            return;
        }
        rows.TimestampMicros(Timestamp, time);
        if (startNanos != 0) rows.TimestampMicros(StartTimestamp, start);
        rows.String(Name, metric.Name);
        if (metric.Description.Length > 0) rows.String(Description, metric.Description);
        if (metric.Unit.Length > 0) rows.String(Unit, metric.Unit);
        rows.Utf8(Type, type);
        if (temporality is { } t) rows.Utf8(Temporality, TemporalityNames[(int)t is >= 0 and < 3 ? (int)t : 0]);
        if (monotonic is { } mono) rows.Boolean(IsMonotonic, mono);
        rows.Int32(Flags, (int)flags);
        values(rows);
        rows.Utf8(Attributes, m.Json.Object(attributes));
        if (m.Scope is { } scope)
        {
            if (scope.Name.Length > 0) rows.String(ScopeName, scope.Name);
            if (scope.Version.Length > 0) rows.String(ScopeVersion, scope.Version);
        }
        rows.Utf8(ResourceJson, m.ResourceJson);
        if (m.Resource is not null) ResourceColumns.Fill(rows, m.Resource.Attributes);
        rows.EndRow();
    }

    private static void Number(ColumnarRows rows, NumberDataPoint p)
    {
        if (p.ValueCase == NumberDataPoint.ValueOneofCase.AsDouble) rows.Float64(Value, p.AsDouble);
        else if (p.ValueCase == NumberDataPoint.ValueOneofCase.AsInt) rows.Float64(Value, p.AsInt);
    }

    private static void Histogram(State m, HistogramDataPoint p)
    {
        var rows = m.Rows;
        rows.Int64(Count, (long)p.Count);
        if (p.HasSum) rows.Float64(Sum, p.Sum);
        if (p.HasMin) rows.Float64(Min, p.Min);
        if (p.HasMax) rows.Float64(Max, p.Max);
        rows.Utf8(BucketCounts, m.Array(p.BucketCounts));
        rows.Utf8(ExplicitBounds, m.Array(p.ExplicitBounds));
    }

    private static void Exponential(State m, ExponentialHistogramDataPoint p)
    {
        var rows = m.Rows;
        rows.Int64(Count, (long)p.Count);
        if (p.HasSum) rows.Float64(Sum, p.Sum);
        if (p.HasMin) rows.Float64(Min, p.Min);
        if (p.HasMax) rows.Float64(Max, p.Max);
        rows.Int32(ExpScale, p.Scale);
        rows.Int64(ExpZeroCount, (long)p.ZeroCount);
        rows.Float64(ExpZeroThreshold, p.ZeroThreshold);
        if (p.Positive is { } positive)
        {
            rows.Int32(ExpPositiveOffset, positive.Offset);
            rows.Utf8(ExpPositiveCounts, m.Array(positive.BucketCounts));
        }
        if (p.Negative is { } negative)
        {
            rows.Int32(ExpNegativeOffset, negative.Offset);
            rows.Utf8(ExpNegativeCounts, m.Array(negative.BucketCounts));
        }
    }

    private static void Summary(State m, SummaryDataPoint p)
    {
        var rows = m.Rows;
        rows.Int64(Count, (long)p.Count);
        rows.Float64(Sum, p.Sum);
        var w = m.Json.Begin();
        w.WriteStartArray();
        foreach (var q in p.QuantileValues)
        {
            w.WriteStartObject();
            w.WriteNumber("quantile"u8, q.Quantile);
            w.WriteNumber("value"u8, q.Value);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        rows.Utf8(Quantiles, m.Json.End());
    }

    private static int Ord(string name) => ColumnarRows.Ordinal(Table, name);

    private sealed class State
    {
        public readonly ColumnarRows Rows = new(Table);
        public readonly OtlpJson Json = new();
        public Rejections Rejected;
        public Resource? Resource;
        public byte[] ResourceJson = "{}"u8.ToArray();
        public InstrumentationScope? Scope;

        public ReadOnlySpan<byte> Array(RepeatedField<ulong> values)
        {
            var w = Json.Begin();
            w.WriteStartArray();
            foreach (var v in values) w.WriteNumberValue(v);
            w.WriteEndArray();
            return Json.End();
        }

        public ReadOnlySpan<byte> Array(RepeatedField<double> values)
        {
            var w = Json.Begin();
            w.WriteStartArray();
            foreach (var v in values)
            {
                if (double.IsFinite(v)) w.WriteNumberValue(v);
                else w.WriteStringValue(v.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            w.WriteEndArray();
            return Json.End();
        }
    }
}
