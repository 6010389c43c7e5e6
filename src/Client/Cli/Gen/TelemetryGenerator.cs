using System.Globalization;
using System.Text.Json;

namespace TimeFusion.Client.Cli.Gen;

/// <summary>What to generate.</summary>
/// <param name="Start">Earliest trace start (UTC).</param>
/// <param name="End">Latest trace start (UTC).</param>
/// <param name="TracesPerSecond">Traces started per second.</param>
/// <param name="MaxRows">Stop after exactly this many rows (spans and logs); null: when the time span is covered.</param>
/// <param name="Projects">Projects (tenants), the first getting most traffic.</param>
/// <param name="Seed">Random seed: the same settings give the same rows.</param>
public sealed record GenSettings(DateTime Start, DateTime End, double TracesPerSecond, long? MaxRows, IReadOnlyList<string> Projects, int Seed);

/// <summary>
/// Realistic demo telemetry (deterministic for a seed): traces through <see cref="ServiceTopology"/> with parent/child
/// spans (SERVER spans in the callee under CLIENT spans in the caller, database CLIENT spans), log records correlated by
/// trace and span id, errors that propagate to callers, and long-tailed latencies (log-normal, with a rare slow tail).
/// </summary>
public sealed class TelemetryGenerator(GenSettings settings)
{
    private readonly Random _random = new(settings.Seed);

    /// <summary>Traces generated so far.</summary>
    public long Traces { get; private set; }

    /// <summary>The rows, in trace order (a trace's rows together).</summary>
    public IEnumerable<TelemetryRecord> Generate()
    {
        var span = Math.Max(1, (settings.End - settings.Start).TotalSeconds);
        var step = 1.0 / settings.TracesPerSecond;
        long rows = 0;
        for (double offset = _random.NextDouble() * step; ; offset += step * (0.5 + _random.NextDouble()))
        {
            if (offset >= span)
            {
                if (settings.MaxRows is null) yield break;
                offset %= span; // --rows: keep going over the same span
            }
            var buffer = new List<TelemetryRecord>();
            Trace(settings.Start.AddTicks((long)(offset * TimeSpan.TicksPerSecond)), buffer);
            Traces++;
            foreach (var record in buffer)
            {
                yield return record;
                if (++rows == settings.MaxRows) yield break;
            }
        }
    }

    private void Trace(DateTime start, List<TelemetryRecord> output)
    {
        var root = Pick(ServiceTopology.Entrypoints);
        var context = new TraceContext(Hex(16), PickProject());
        Run(root, start, parentSpanId: null, context, output);
    }

    /// <summary>Runs an operation (a SERVER span, or a database CLIENT span); returns its end and whether it failed.</summary>
    private (DateTime End, bool Failed) Run(Operation op, DateTime start, string? parentSpanId, TraceContext trace, List<TelemetryRecord> output)
    {
        var spanId = Hex(8);
        var self = Latency(op.SelfMillis);
        var clock = start.AddTicks((long)(self * 0.3 * TimeSpan.TicksPerMillisecond));
        var failedBelow = false;
        var spanIndex = output.Count;
        output.Add(null!); // the span itself, filled in once its children are known
        foreach (var call in op.Calls)
        {
            DateTime end;
            bool failed;
            if (call.IsDatabase)
            {
                (end, failed) = Run(call, clock, spanId, trace, output);
            }
            else
            {
                // The caller's CLIENT span around the callee's SERVER span.
                var clientId = Hex(8);
                var clientIndex = output.Count;
                output.Add(null!);
                var network = Latency(0.4);
                (end, failed) = Run(call, clock.AddTicks((long)(network * TimeSpan.TicksPerMillisecond)), clientId, trace, output);
                end = end.AddTicks((long)(network * TimeSpan.TicksPerMillisecond));
                output[clientIndex] = Span(op.Service, $"{call.Method} {call.Service}{call.Path}", "CLIENT", clientId, spanId, clock, end, trace,
                    failed, call.Method, failed ? 500 : 200, call.Path, null, null);
            }
            clock = end;
            if (failed && _random.NextDouble() < 0.8)
            {
                failedBelow = true;
                break; // the caller gives up and fails too
            }
        }
        var selfFailed = _random.NextDouble() < op.ErrorRate;
        var failedHere = selfFailed || failedBelow;
        var finish = clock.AddTicks((long)(self * 0.7 * TimeSpan.TicksPerMillisecond));
        output[spanIndex] = op.IsDatabase
            ? Span(op.Service, op.Name, "CLIENT", spanId, parentSpanId, start, finish, trace, failedHere, null, null, null, "postgresql", op.Path)
            : Span(op.Service, op.Name, "SERVER", spanId, parentSpanId, start, finish, trace, failedHere, op.Method, failedHere ? 500 : 200, op.Path, null, null);
        if (!op.IsDatabase)
        {
            output.Add(Log(op, trace, spanId, finish, failedHere, selfFailed));
        }
        return (finish, failedHere);
    }

    private TelemetryRecord Span(string service, string name, string kind, string spanId, string? parentId, DateTime start, DateTime end,
        TraceContext trace, bool failed, string? method, int? status, string? path, string? dbSystem, string? dbQuery)
    {
        var record = Base(service, trace, spanId, start);
        record.ParentId = parentId;
        record.Name = name;
        record.Kind = kind;
        record.StatusCode = failed ? "ERROR" : "OK";
        record.Level = failed ? "ERROR" : "INFO";
        record.DurationNanos = (end - start).Ticks * 100;
        record.StartTime = start;
        record.EndTime = end;
        record.ObservedTimestamp = end.AddMilliseconds(50 + _random.Next(200));
        record.HttpMethod = method;
        record.HttpStatusCode = status;
        record.UrlPath = path;
        record.DbSystem = dbSystem;
        record.DbQuery = dbQuery;
        if (failed)
        {
            var (type, message) = dbSystem is not null
                ? ServiceTopology.ErrorOf(new Operation(service, name, null, "", 0, 0))
                : ServiceTopology.ErrorOf(new Operation(service, name, method, path ?? "", 0, 0));
            record.StatusMessage = message;
            record.ExceptionType = type;
            record.ExceptionMessage = message;
        }
        record.Attributes = Json(w =>
        {
            if (method is not null) w.WriteString("http.request.method", method);
            if (status is not null) w.WriteNumber("http.response.status_code", status.Value);
            if (path is not null && dbSystem is null) w.WriteString("url.path", path);
            if (dbSystem is not null) w.WriteString("db.system.name", dbSystem);
            if (dbQuery is not null) w.WriteString("db.query.text", dbQuery);
            if (record.ExceptionType is not null) w.WriteString("exception.type", record.ExceptionType);
        });
        return record;
    }

    private TelemetryRecord Log(Operation op, TraceContext trace, string spanId, DateTime at, bool failed, bool selfFailed)
    {
        var record = Base(op.Service, trace, spanId, at);
        record.Name = op.Service + ".requests";
        record.Level = failed ? "ERROR" : "INFO";
        record.SeverityText = record.Level;
        record.SeverityNumber = failed ? 17 : 9;
        record.ObservedTimestamp = at.AddMilliseconds(20 + _random.Next(100));
        var message = failed
            ? $"{op.Name} failed: {(selfFailed ? ServiceTopology.ErrorOf(op).Message : "a downstream call failed")}"
            : $"{op.Name} handled";
        record.Body = JsonSerializer.Serialize(message);
        if (failed) (record.ExceptionType, record.ExceptionMessage) = ServiceTopology.ErrorOf(op);
        record.Attributes = Json(w =>
        {
            w.WriteString("url.path", op.Path);
            if (record.ExceptionType is not null) w.WriteString("exception.type", record.ExceptionType);
        });
        record.IsLog = true;
        return record;
    }

    private TelemetryRecord Base(string service, TraceContext trace, string spanId, DateTime at)
    {
        // One of three instances per service, the same for every row of a service in one trace.
        var instance = $"{service}-{trace.Project}-{Convert.ToInt32(trace.TraceId[..2], 16) % 3}";
        return new TelemetryRecord
        {
            Timestamp = at,
            Id = new Guid(RandomBytes(16)).ToString(),
            TraceId = trace.TraceId,
            SpanId = spanId,
            ServiceName = service,
            ServiceVersion = ServiceTopology.Versions[service],
            ServiceInstance = instance,
            ProjectId = trace.Project,
            Resource = Json(w =>
            {
                w.WriteString("service.name", service);
                w.WriteString("service.version", ServiceTopology.Versions[service]);
                w.WriteString("service.instance.id", instance);
                w.WriteString("telemetry.sdk.language", "dotnet");
            }),
        };
    }

    /// <summary>Milliseconds around <paramref name="median"/>: log-normal, and one call in 100 is 5–50 times slower.</summary>
    private double Latency(double median)
    {
        var normal = Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
        var value = median * Math.Exp(0.5 * normal);
        return _random.NextDouble() < 0.01 ? value * (5 + 45 * _random.NextDouble()) : value;
    }

    private string PickProject()
    {
        // The first project gets most traffic (about 2/3), the others share the rest.
        var projects = settings.Projects;
        if (projects.Count == 1 || _random.NextDouble() < 2.0 / 3) return projects[0];
        return projects[1 + _random.Next(projects.Count - 1)];
    }

    private Operation Pick(IReadOnlyList<(Operation Root, double Weight)> choices)
    {
        var x = _random.NextDouble() * choices.Sum(c => c.Weight);
        foreach (var (root, weight) in choices)
        {
            if ((x -= weight) < 0) return root;
        }
        return choices[^1].Root;
    }

    private byte[] RandomBytes(int n)
    {
        var bytes = new byte[n];
        _random.NextBytes(bytes);
        return bytes;
    }

    private string Hex(int bytes) => Convert.ToHexStringLower(RandomBytes(bytes));

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private sealed record TraceContext(string TraceId, string Project);

    /// <summary>Formats a timestamp as the files hold it (ISO 8601, microseconds, UTC).</summary>
    public static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
