using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TimeFusion.Tests.Otlp;

/// <summary>
/// The real OpenTelemetry .NET SDK and its OTLP exporter send spans, logs and metrics to the receiver over
/// OTLP/HTTP protobuf and OTLP/gRPC; the rows read back over the PostgreSQL door equal what was sent.
/// </summary>
public sealed class OtlpSdkExportTests(OtlpTestSilo silo) : IClassFixture<OtlpTestSilo>
{
    private static ResourceBuilder Resource() => ResourceBuilder.CreateEmpty()
        .AddService("checkout", serviceNamespace: "shop", serviceVersion: "2.4.1", serviceInstanceId: "checkout-1")
        .AddAttributes([new("deployment.environment", "test")]);

    private void Configure(OtlpExporterOptions o, string protocol, string signal, string project, bool gzip = false)
    {
        o.Protocol = protocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        o.Endpoint = new Uri(protocol == "grpc" ? silo.GrpcBase : $"{silo.HttpBase}/v1/{signal}");
        o.Headers = $"Authorization=Basic {OtlpTestSilo.BasicValue(project)},x-timefusion-project={project}";
        o.ExportProcessorType = ExportProcessorType.Simple;
        o.TimeoutMilliseconds = 60_000;
        if (gzip) o.Compression = OtlpExportCompression.GZip;
    }

    [Theory]
    [InlineData("http", "sdk-http-traces")]
    [InlineData("grpc", "sdk-grpc-traces")]
    public async Task Spans_land_with_their_ids_times_attributes_and_resource(string protocol, string project)
    {
        Activity.Current = null;
        using var source = new ActivitySource("tf-otlp-" + project);
        var sent = new List<Activity>();
        using (var provider = Sdk.CreateTracerProviderBuilder().AddSource(source.Name).SetResourceBuilder(Resource())
                   .AddOtlpExporter(o => Configure(o, protocol, "traces", project, gzip: protocol == "http")).Build())
        {
            using (var parent = source.StartActivity("GET /orders/{id}", ActivityKind.Server)!)
            {
                parent.SetTag("http.request.method", "GET");
                parent.SetTag("http.response.status_code", 200);
                parent.SetTag("order.count", 3);
                using (var child = source.StartActivity("SELECT orders", ActivityKind.Client)!)
                {
                    child.SetTag("db.system.name", "postgresql");
                    child.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection { ["attempt"] = 2 }));
                    child.SetStatus(ActivityStatusCode.Error, "connection reset");
                    sent.Add(child);
                }
                sent.Add(parent);
            }
            Assert.True(provider.ForceFlush(30_000));
        }

        var rows = await silo.QueryAsync(project,
            "SELECT id, parent_id, context___trace_id, context___span_id, name, kind, status_code, status_message, duration, " +
            "timestamp, start_time, end_time, attributes, events, resource, resource___service___name, resource___service___version, " +
            "resource___service___instance___id, resource___service___namespace, attributes___http___response___status_code, " +
            "attributes___http___request___method, attributes___db___system___name, project_id FROM otel_logs_and_spans ORDER BY start_time");
        Assert.Equal(2, rows.Count);
        foreach (var a in sent)
        {
            var row = rows.Single(r => (string)r["id"]! == a.SpanId.ToHexString());
            Assert.Equal(a.TraceId.ToHexString(), row["context___trace_id"]);
            Assert.Equal(a.SpanId.ToHexString(), row["context___span_id"]);
            Assert.Equal(a.ParentSpanId == default ? null : a.ParentSpanId.ToHexString(), row["parent_id"]);
            Assert.Equal(a.DisplayName, row["name"]);
            Assert.Equal(a.Kind == ActivityKind.Server ? "SERVER" : "CLIENT", row["kind"]);
            Assert.Equal(a.Duration.Ticks * 100, row["duration"]);
            Assert.Equal(Micros(a.StartTimeUtc), Micros((DateTime)row["start_time"]!));
            Assert.Equal(Micros(a.StartTimeUtc), Micros((DateTime)row["timestamp"]!));
            Assert.Equal(Micros(a.StartTimeUtc + a.Duration), Micros((DateTime)row["end_time"]!));
            Assert.Equal("checkout", row["resource___service___name"]);
            Assert.Equal("2.4.1", row["resource___service___version"]);
            Assert.Equal("checkout-1", row["resource___service___instance___id"]);
            Assert.Equal("shop", row["resource___service___namespace"]);
            Assert.Equal(project, row["project_id"]);
            using var resource = JsonDocument.Parse((string)row["resource"]!);
            Assert.Equal("test", resource.RootElement.GetProperty("deployment.environment").GetString());
            Assert.Equal("checkout", resource.RootElement.GetProperty("service.name").GetString());
        }
        var server = rows.Single(r => (string)r["kind"]! == "SERVER");
        Assert.Equal(200, server["attributes___http___response___status_code"]);
        Assert.Equal("GET", server["attributes___http___request___method"]);
        Assert.Equal("UNSET", server["status_code"]);
        using (var attributes = JsonDocument.Parse((string)server["attributes"]!))
        {
            Assert.Equal(3, attributes.RootElement.GetProperty("order.count").GetInt64());
            Assert.Equal(200, attributes.RootElement.GetProperty("http.response.status_code").GetInt64());
        }
        var client = rows.Single(r => (string)r["kind"]! == "CLIENT");
        Assert.Equal("ERROR", client["status_code"]);
        Assert.Equal("connection reset", client["status_message"]);
        Assert.Equal("postgresql", client["attributes___db___system___name"]);
        using (var events = JsonDocument.Parse((string)client["events"]!))
        {
            var retry = Assert.Single(events.RootElement.EnumerateArray());
            Assert.Equal("retry", retry.GetProperty("name").GetString());
            Assert.Equal(2, retry.GetProperty("attributes").GetProperty("attempt").GetInt64());
        }
    }

    [Theory]
    [InlineData("http", "sdk-http-logs")]
    [InlineData("grpc", "sdk-grpc-logs")]
    public async Task Log_records_land_with_severity_body_attributes_and_trace_context(string protocol, string project)
    {
        Activity.Current = null;
        var before = DateTime.UtcNow;
        ActivityTraceId traceId;
        ActivitySpanId spanId;
        using (var factory = LoggerFactory.Create(b => b.AddOpenTelemetry(o =>
               {
                   o.SetResourceBuilder(Resource());
                   o.AddOtlpExporter((e, p) =>
                   {
                       Configure(e, protocol, "logs", project);
                       p.ExportProcessorType = ExportProcessorType.Simple;
                   });
               })))
        {
            var logger = factory.CreateLogger("Checkout.Orders");
            using var activity = new Activity("handle").SetIdFormat(ActivityIdFormat.W3C).Start();
            traceId = activity.TraceId;
            spanId = activity.SpanId;
            logger.LogWarning("Order {OrderId} took {Elapsed} ms", 42, 1234.5);
            activity.Stop();
            logger.LogError("Payment declined");
        }
        var after = DateTime.UtcNow;

        var rows = await silo.QueryAsync(project,
            "SELECT timestamp, observed_timestamp, id, parent_id, kind, level, severity___severity_number, severity___severity_text, body, attributes, " +
            "context___trace_id, context___span_id, resource___service___name FROM otel_logs_and_spans ORDER BY severity___severity_number");
        Assert.Equal(2, rows.Count);
        var warning = rows[0];
        Assert.Equal("LOG", warning["kind"]);
        Assert.Equal(13, warning["severity___severity_number"]);
        Assert.Equal(traceId.ToHexString(), warning["context___trace_id"]);
        Assert.Equal(spanId.ToHexString(), warning["context___span_id"]);
        Assert.Equal(spanId.ToHexString(), warning["parent_id"]);
        Assert.Equal("checkout", warning["resource___service___name"]);
        var time = (DateTime)warning["timestamp"]!;
        Assert.InRange(time, before.AddMilliseconds(-1), after.AddMilliseconds(1));
        using (var body = JsonDocument.Parse((string)warning["body"]!))
            Assert.Contains("Order", body.RootElement.GetString());
        using (var attributes = JsonDocument.Parse((string)warning["attributes"]!))
        {
            Assert.Equal(42, attributes.RootElement.GetProperty("OrderId").GetInt64());
            Assert.Equal(1234.5, attributes.RootElement.GetProperty("Elapsed").GetDouble());
        }
        var error = rows[1];
        Assert.Equal(17, error["severity___severity_number"]);
        Assert.Null(error["context___trace_id"]);
        Assert.NotEqual(warning["id"], error["id"]);
    }

    [Theory]
    [InlineData("http", "sdk-http-metrics")]
    [InlineData("grpc", "sdk-grpc-metrics")]
    public async Task Metrics_land_one_row_per_data_point(string protocol, string project)
    {
        using var meter = new Meter("tf-otlp-" + project);
        var orders = meter.CreateCounter<long>("orders.placed", unit: "{order}", description: "Orders placed");
        var latency = meter.CreateHistogram<double>("checkout.latency", unit: "ms");
        var sizes = meter.CreateHistogram<double>("cart.size");
        meter.CreateObservableGauge("queue.depth", () => 7.5);
        using (var provider = Sdk.CreateMeterProviderBuilder().AddMeter(meter.Name).SetResourceBuilder(Resource())
                   .AddView("cart.size", new Base2ExponentialBucketHistogramConfiguration())
                   .AddOtlpExporter((e, r) =>
                   {
                       Configure(e, protocol, "metrics", project);
                       r.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
                       r.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
                   }).Build())
        {
            orders.Add(5, new KeyValuePair<string, object?>("route", "/a"));
            orders.Add(2, new KeyValuePair<string, object?>("route", "/b"));
            foreach (var ms in new[] { 10.0, 20.0, 30.0 }) latency.Record(ms);
            foreach (var n in new[] { 1.0, 2.0, 4.0, 8.0 }) sizes.Record(n);
        } // shutting the provider down collects and exports once (a ForceFlush too would export the cumulative points twice)

        var rows = await silo.QueryAsync(project,
            "SELECT metric_name, metric_description, metric_unit, metric_type, aggregation_temporality, is_monotonic, value, count, sum, min, max, " +
            "bucket_counts, explicit_bounds, exp_scale, exp_positive_bucket_counts, attributes, resource___service___name, scope_name " +
            "FROM otel_metrics ORDER BY metric_name, value");
        var placed = rows.Where(r => (string)r["metric_name"]! == "orders.placed").ToList();
        Assert.Equal(2, placed.Count);
        Assert.Equal(new[] { 2.0, 5.0 }, placed.Select(r => (double)r["value"]!));
        Assert.All(placed, r =>
        {
            Assert.Equal("sum", r["metric_type"]);
            Assert.Equal("CUMULATIVE", r["aggregation_temporality"]);
            Assert.Equal(true, r["is_monotonic"]);
            Assert.Equal("{order}", r["metric_unit"]);
            Assert.Equal("Orders placed", r["metric_description"]);
            Assert.Equal("checkout", r["resource___service___name"]);
            Assert.Equal(meter.Name, r["scope_name"]);
        });
        using (var a = JsonDocument.Parse((string)placed[1]["attributes"]!))
            Assert.Equal("/a", a.RootElement.GetProperty("route").GetString());

        var histogram = Assert.Single(rows, r => (string)r["metric_name"]! == "checkout.latency");
        Assert.Equal("histogram", histogram["metric_type"]);
        Assert.Equal(3L, histogram["count"]);
        Assert.Equal(60.0, histogram["sum"]);
        Assert.Equal(10.0, histogram["min"]);
        Assert.Equal(30.0, histogram["max"]);
        using (var counts = JsonDocument.Parse((string)histogram["bucket_counts"]!))
        using (var bounds = JsonDocument.Parse((string)histogram["explicit_bounds"]!))
        {
            Assert.Equal(3, counts.RootElement.EnumerateArray().Sum(c => c.GetInt64()));
            Assert.Equal(counts.RootElement.GetArrayLength(), bounds.RootElement.GetArrayLength() + 1);
        }

        var exponential = Assert.Single(rows, r => (string)r["metric_name"]! == "cart.size");
        Assert.Equal("exponential_histogram", exponential["metric_type"]);
        Assert.Equal(4L, exponential["count"]);
        Assert.Equal(15.0, exponential["sum"]);
        Assert.NotNull(exponential["exp_scale"]);
        using (var positive = JsonDocument.Parse((string)exponential["exp_positive_bucket_counts"]!))
            Assert.Equal(4, positive.RootElement.EnumerateArray().Sum(c => c.GetInt64()));

        var gauge = Assert.Single(rows, r => (string)r["metric_name"]! == "queue.depth");
        Assert.Equal("gauge", gauge["metric_type"]);
        Assert.Equal(7.5, gauge["value"]);
        Assert.Null(gauge["aggregation_temporality"]);
    }

    private static long Micros(DateTime t) => (t.ToUniversalTime() - DateTime.UnixEpoch).Ticks / 10;
}
