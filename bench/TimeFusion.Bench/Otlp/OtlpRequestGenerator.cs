using Google.Protobuf;
using TimeFusion.Otlp.Collector.Logs.V1;
using TimeFusion.Otlp.Collector.Trace.V1;
using TimeFusion.Otlp.Common.V1;
using TimeFusion.Otlp.Logs.V1;
using TimeFusion.Otlp.Resource.V1;
using TimeFusion.Otlp.Trace.V1;

namespace TimeFusion.Bench.Otlp;

/// <summary>
/// Deterministic OTLP exports shaped like an SDK's: four services per request (one resource each, with the usual
/// service/SDK/host attributes), server spans with HTTP attributes, client spans with database attributes, errors with
/// exception attributes, log records with a body, severity, code location and trace context. Roughly the content of
/// <see cref="OtelRowGenerator"/>'s rows, so rows/s compare.
/// </summary>
public sealed class OtlpRequestGenerator(int seed)
{
    private static readonly (string Name, string Ns, string Lang, string[] Routes)[] Services =
    [
        ("api-gateway", "edge", "go", ["/v1/orders", "/v1/orders/{id}", "/v1/users/{id}", "/v1/search"]),
        ("orders", "shop", "java", ["/orders", "/orders/{id}", "/orders/{id}/items"]),
        ("payments", "shop", "java", ["/charge", "/refund"]),
        ("users", "identity", "dotnet", ["/users/{id}", "/sessions"]),
        ("search", "catalog", "python", ["/search", "/suggest"]),
        ("inventory", "shop", "rust", ["/stock/{sku}", "/reserve"]),
    ];

    private static readonly string[] Methods = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
    private readonly Random _random = new(seed);
    private ulong _nanos = 1_760_000_000_000_000_000UL;

    /// <summary>An export of <paramref name="spans"/> spans, serialized.</summary>
    public byte[] Traces(int spans)
    {
        var request = new ExportTraceServiceRequest();
        var per = (spans + 3) / 4;
        for (var r = 0; r < 4 && r * per < spans; r++)
        {
            var service = Services[_random.Next(Services.Length)];
            var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "bench", Version = "1.0" } };
            for (var i = r * per; i < Math.Min(spans, (r + 1) * per); i++) scope.Spans.Add(NewSpan(service));
            request.ResourceSpans.Add(new ResourceSpans { Resource = Resource(service), ScopeSpans = { scope } });
        }
        return request.ToByteArray();
    }

    /// <summary>An export of <paramref name="records"/> log records, serialized.</summary>
    public byte[] Logs(int records)
    {
        var request = new ExportLogsServiceRequest();
        var per = (records + 3) / 4;
        for (var r = 0; r < 4 && r * per < records; r++)
        {
            var service = Services[_random.Next(Services.Length)];
            var scope = new ScopeLogs { Scope = new InstrumentationScope { Name = "bench" } };
            for (var i = r * per; i < Math.Min(records, (r + 1) * per); i++) scope.LogRecords.Add(Log(service));
            request.ResourceLogs.Add(new ResourceLogs { Resource = Resource(service), ScopeLogs = { scope } });
        }
        return request.ToByteArray();
    }

    private Resource Resource((string Name, string Ns, string Lang, string[] Routes) s) => new()
    {
        Attributes =
        {
            Kv("service.name", s.Name), Kv("service.namespace", s.Ns), Kv("service.version", "1.4." + _random.Next(10)),
            Kv("service.instance.id", $"{s.Name}-{_random.Next(6)}"), Kv("telemetry.sdk.language", s.Lang),
            Kv("telemetry.sdk.name", "opentelemetry"), Kv("telemetry.sdk.version", "1.21.0"), Kv("host.name", "node-" + _random.Next(20)),
        },
    };

    private Span NewSpan((string Name, string Ns, string Lang, string[] Routes) s)
    {
        var route = s.Routes[_random.Next(s.Routes.Length)];
        var method = Methods[_random.Next(Methods.Length)];
        var error = _random.NextDouble() < 0.04;
        var server = _random.NextDouble() < 0.6;
        var start = _nanos += (ulong)_random.Next(1, 1_000_000);
        var span = new Span
        {
            TraceId = Id(16), SpanId = Id(8), ParentSpanId = _random.NextDouble() < 0.7 ? Id(8) : ByteString.Empty,
            Name = $"{method} {route}", Kind = server ? Span.Types.SpanKind.Server : Span.Types.SpanKind.Client, Flags = 0x101,
            StartTimeUnixNano = start, EndTimeUnixNano = start + (ulong)Math.Exp(15.9 + 1.3 * Gaussian()),
            Status = new Status { Code = error ? Status.Types.StatusCode.Error : Status.Types.StatusCode.Unset, Message = error ? "internal error" : "" },
        };
        if (server)
        {
            span.Attributes.Add(Kv("http.request.method", method));
            span.Attributes.Add(Kv("http.response.status_code", error ? 500 : 200));
            span.Attributes.Add(Kv("url.path", route.Replace("{id}", _random.Next(100_000).ToString())));
            span.Attributes.Add(Kv("url.scheme", "https"));
            span.Attributes.Add(Kv("server.address", s.Name));
            span.Attributes.Add(Kv("server.port", 8080));
            span.Attributes.Add(Kv("client.address", $"10.{_random.Next(256)}.{_random.Next(256)}.{_random.Next(256)}"));
            span.Attributes.Add(Kv("network.protocol.version", "1.1"));
        }
        else
        {
            span.Attributes.Add(Kv("db.system.name", "postgresql"));
            span.Attributes.Add(Kv("db.namespace", s.Ns));
            span.Attributes.Add(Kv("db.operation.name", "SELECT"));
            span.Attributes.Add(Kv("db.query.text", $"SELECT * FROM {s.Routes[0].Trim('/').Split('/')[0]} WHERE id = $1 LIMIT 50"));
        }
        if (error)
        {
            span.Attributes.Add(Kv("exception.type", "System.TimeoutException"));
            span.Attributes.Add(Kv("exception.message", "The operation has timed out after 30000 ms."));
        }
        if (_random.NextDouble() < 0.3) span.Attributes.Add(Kv("user.id", "u" + _random.Next(50_000)));
        return span;
    }

    private LogRecord Log((string Name, string Ns, string Lang, string[] Routes) s)
    {
        var route = s.Routes[_random.Next(s.Routes.Length)];
        var roll = _random.NextDouble();
        var (text, number) = roll < 0.04 ? ("ERROR", SeverityNumber.Error) : roll < 0.1 ? ("WARN", SeverityNumber.Warn) : ("INFO", SeverityNumber.Info);
        var time = _nanos += (ulong)_random.Next(1, 1_000_000);
        return new LogRecord
        {
            TimeUnixNano = time, ObservedTimeUnixNano = time + 50_000, SeverityText = text, SeverityNumber = number,
            Body = new AnyValue { StringValue = $"{s.Name} handled {Methods[_random.Next(Methods.Length)]} {route} in {_random.Next(1, 900)} ms" },
            TraceId = Id(16), SpanId = Id(8), Flags = 1,
            Attributes =
            {
                Kv("code.function.name", "Handle" + route.Trim('/').Split('/')[0]), Kv("code.file.path", $"{s.Name}.{s.Lang}"),
                Kv("code.line.number", _random.Next(10, 900)), Kv("user.id", "u" + _random.Next(50_000)),
            },
        };
    }

    private ByteString Id(int bytes)
    {
        Span<byte> id = stackalloc byte[bytes];
        _random.NextBytes(id);
        id[0] |= 1;
        return ByteString.CopyFrom(id);
    }

    private double Gaussian() => Math.Sqrt(-2.0 * Math.Log(1.0 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());

    private static KeyValue Kv(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static KeyValue Kv(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };
}
