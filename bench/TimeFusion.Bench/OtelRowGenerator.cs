using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Tables;

namespace TimeFusion.Bench;

/// <summary>
/// Deterministic, realistic rows of <see cref="OtelLogsAndSpans.Schema"/> (~500 bytes of Arrow per row):
/// a dozen services with their routes and weights, mostly INFO with a tail of WARN/ERROR, log-normal
/// (long-tailed) durations, JSON bodies/attributes/resources, trace and span ids, sparse flattened
/// attributes (HTTP on server spans, DB on client spans, exceptions on errors), and increasing timestamps.
/// The same seed always gives the same batches.
/// </summary>
public sealed class OtelRowGenerator
{
    private static readonly (string Name, string Ns, string Lang, int Weight, string[] Routes)[] Services =
    [
        ("api-gateway", "edge", "go", 30, ["/v1/orders", "/v1/orders/{id}", "/v1/users/{id}", "/v1/search", "/healthz"]),
        ("orders", "shop", "java", 18, ["/orders", "/orders/{id}", "/orders/{id}/items"]),
        ("payments", "shop", "java", 10, ["/charge", "/refund", "/payments/{id}"]),
        ("users", "identity", "dotnet", 12, ["/users/{id}", "/users", "/sessions"]),
        ("auth", "identity", "dotnet", 8, ["/token", "/introspect", "/jwks"]),
        ("search", "catalog", "python", 7, ["/search", "/suggest"]),
        ("catalog", "catalog", "python", 6, ["/products/{id}", "/products", "/categories"]),
        ("inventory", "shop", "rust", 4, ["/stock/{sku}", "/reserve"]),
        ("notifications", "messaging", "nodejs", 2, ["/send", "/templates/{id}"]),
        ("email-worker", "messaging", "nodejs", 1, ["send_email"]),
        ("billing-cron", "shop", "go", 1, ["invoice_run"]),
        ("recommendations", "catalog", "python", 1, ["/recs/{user}"]),
    ];

    private static readonly string[] Methods = ["GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH"];
    private static readonly string[] DbSystems = ["postgresql", "redis", "mongodb"];
    private static readonly string[] DbOps = ["SELECT", "INSERT", "UPDATE", "GET", "SET", "find"];
    private static readonly string[] Exceptions = ["System.TimeoutException", "java.net.SocketTimeoutException", "ValueError", "io.grpc.StatusRuntimeException", "System.InvalidOperationException"];
    private static readonly string[] UserAgents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "okhttp/4.12.0", "python-requests/2.31.0", "Go-http-client/1.1",
    ];

    private readonly Random _random;
    private readonly TableSchema _schema = OtelLogsAndSpans.Schema;
    private readonly int _columns;
    private readonly int[] _serviceCumulative;
    private readonly string _projectId;
    private long _timestampUs;
    private readonly long _meanGapUs;
    private long _sequence;

    /// <param name="seed">Same seed, same rows.</param>
    /// <param name="start">Timestamp of the first row.</param>
    /// <param name="rowsPerSecond">Average event rate the timestamps follow.</param>
    /// <param name="projectId">The project_id of every row.</param>
    public OtelRowGenerator(int seed, DateTimeOffset start, double rowsPerSecond = 2_000, string projectId = "p-bench")
    {
        _random = new Random(seed);
        _columns = _schema.Columns.Count;
        _timestampUs = (start.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;
        _meanGapUs = Math.Max(1, (long)(1_000_000 / rowsPerSecond));
        _projectId = projectId;
        _serviceCumulative = new int[Services.Length];
        var sum = 0;
        for (var i = 0; i < Services.Length; i++)
            _serviceCumulative[i] = sum += Services[i].Weight;
    }

    /// <summary>The schema of the batches.</summary>
    public TableSchema Schema => _schema;

    /// <summary>The timestamp (µs since the epoch) the next row will roughly have.</summary>
    public long NextTimestampUs => _timestampUs;

    /// <summary>Builds the next <paramref name="rows"/> rows.</summary>
    public RecordBatch NextBatch(int rows)
    {
        var sink = new Sink(_schema, rows);
        for (var r = 0; r < rows; r++)
        {
            WriteRow(sink);
            sink.EndRow();
        }
        return sink.Build();
    }

    private int Col(string name) => _schema.IndexOf(name);

    private void WriteRow(Sink s)
    {
        var rnd = _random;
        var seq = _sequence++;
        _timestampUs += 1 + (long)(rnd.NextDouble() * 2 * _meanGapUs);
        var ts = _timestampUs;
        var service = PickService();
        var (svc, ns, lang, _, routes) = Services[service];
        var route = routes[rnd.Next(routes.Length)];
        var roll = rnd.NextDouble();
        var level = roll < 0.04 ? "ERROR" : roll < 0.10 ? "WARN" : roll < 0.20 ? "DEBUG" : "INFO";
        var isSpan = rnd.NextDouble() < 0.6;
        var kind = isSpan ? (rnd.NextDouble() < 0.55 ? "SERVER" : rnd.NextDouble() < 0.7 ? "CLIENT" : "INTERNAL") : "LOG";
        // Log-normal duration: median ~8 ms, long tail to seconds.
        var durationNs = (long)(Math.Exp(15.9 + 1.3 * Gaussian()) );
        var traceId = Hex(32);
        var spanId = Hex(16);
        var method = Methods[rnd.Next(Methods.Length)];
        var status = level == "ERROR" ? (rnd.NextDouble() < 0.7 ? 500 : 503) : level == "WARN" ? (rnd.NextDouble() < 0.5 ? 404 : 429) : (method == "POST" ? 201 : 200);
        var user = rnd.Next(50_000);
        var instance = rnd.Next(6);

        s.Date(Col("date"), ts);
        s.Timestamp(Col("timestamp"), ts);
        s.Timestamp(Col("observed_timestamp"), ts + rnd.Next(200, 50_000));
        s.String(Col("id"), Uuid(seq));
        if (isSpan && rnd.NextDouble() < 0.7)
            s.String(Col("parent_id"), Hex(16));
        var hashCount = rnd.Next(10) == 0 ? rnd.Next(1, 3) : 0;
        s.List(Col("hashes"), hashCount == 0 ? [] : Enumerable.Range(0, hashCount).Select(_ => Hex(12)).ToArray());
        var name = isSpan ? $"{method} {route}" : $"{svc}.{(level == "ERROR" ? "request_failed" : "request_handled")}";
        s.String(Col("name"), name);
        s.String(Col("kind"), kind);
        s.String(Col("status_code"), level == "ERROR" ? "ERROR" : isSpan ? "OK" : "UNSET");
        if (level == "ERROR")
            s.String(Col("status_message"), status == 503 ? "upstream unavailable" : "internal error while handling request");
        s.String(Col("level"), level);
        var severityNumber = level switch { "ERROR" => 17, "WARN" => 13, "DEBUG" => 5, _ => 9 };
        if (!isSpan)
            s.String(Col("severity"), $"{{\"text\":\"{level}\",\"number\":{severityNumber}}}");
        if (!isSpan)
        {
            s.String(Col("severity___severity_text"), level);
            s.Int32(Col("severity___severity_number"), severityNumber);
        }
        s.String(Col("body"), level == "ERROR"
            ? $"{{\"message\":\"{svc} failed to handle {method} {route}: {Exceptions[rnd.Next(Exceptions.Length)]}\",\"attempt\":{rnd.Next(1, 4)}}}"
            : isSpan ? $"{{\"status\":{status}}}" : $"{{\"msg\":\"{method} {route} ok\",\"ms\":{durationNs / 1_000_000}}}");
        s.Int64(Col("duration"), durationNs);
        s.Timestamp(Col("start_time"), ts);
        s.Timestamp(Col("end_time"), ts + durationNs / 1000);
        s.String(Col("context___trace_id"), traceId);
        s.String(Col("context___span_id"), spanId);
        s.String(Col("context___trace_flags"), "01");
        s.Bool(Col("context___is_remote"), kind == "SERVER");
        if (rnd.NextDouble() < 0.03)
            s.String(Col("events"), $"[{{\"name\":\"cache_miss\",\"time_unix_nano\":{ts * 1000 + 1234}}}]");
        if (isSpan)
            s.String(Col("attributes"), $"{{\"route\":\"{route}\"}}");
        if (kind == "SERVER")
        {
            s.String(Col("attributes___client___address"), $"10.{rnd.Next(256)}.{rnd.Next(256)}.{rnd.Next(256)}");
            s.Int32(Col("attributes___client___port"), rnd.Next(1024, 65535));
            s.String(Col("attributes___server___address"), svc);
            s.Int32(Col("attributes___server___port"), 8080);
            s.String(Col("attributes___network___protocol___name"), "http");
            s.String(Col("attributes___network___protocol___version"), rnd.Next(3) == 0 ? "2" : "1.1");
            s.String(Col("attributes___url___path"), route.Replace("{id}", user.ToString(CultureInfo.InvariantCulture)));
            s.String(Col("attributes___url___scheme"), "https");
            if (rnd.Next(4) == 0)
                s.String(Col("attributes___user_agent___original"), UserAgents[rnd.Next(UserAgents.Length)]);
            s.String(Col("attributes___http___request___method"), method);
            s.Int32(Col("attributes___http___response___status_code"), status);
            if (method is "POST" or "PUT" or "PATCH")
                s.Int64(Col("attributes___http___request___body___size"), rnd.Next(50, 20_000));
        }
        else if (kind == "CLIENT")
        {
            var db = DbSystems[rnd.Next(DbSystems.Length)];
            var op = DbOps[rnd.Next(DbOps.Length)];
            s.String(Col("attributes___db___system___name"), db);
            s.String(Col("attributes___db___namespace"), ns);
            s.String(Col("attributes___db___operation___name"), op);
            s.String(Col("attributes___db___collection___name"), routes[0].Trim('/').Split('/')[0]);
            s.String(Col("attributes___db___query___summary"), $"{op} {routes[0].Trim('/')}");
            if (db == "postgresql")
                s.String(Col("attributes___db___query___text"), $"SELECT * FROM {routes[0].Trim('/').Split('/')[0]} WHERE id = $1 LIMIT 50");
        }
        if (level == "ERROR")
        {
            var ex = Exceptions[rnd.Next(Exceptions.Length)];
            s.String(Col("attributes___error___type"), ex);
            s.String(Col("attributes___exception___type"), ex);
            s.String(Col("attributes___exception___message"), "The operation has timed out after 30000 ms.");
            s.String(Col("attributes___exception___stacktrace"), $"{ex}: The operation has timed out.\n   at {svc}.Handler.Invoke() in Handler.cs:line {rnd.Next(20, 400)}\n   at {svc}.Pipeline.Run()");
            s.String(Col("errors"), $"[{{\"type\":\"{ex}\",\"message\":\"timed out\"}}]");
        }
        if (!isSpan)
        {
            s.String(Col("attributes___code___function___name"), $"Handle{route.Trim('/').Split('/')[0]}");
            s.String(Col("attributes___code___file___path"), $"{svc}.{lang}");
            s.Int32(Col("attributes___code___line___number"), rnd.Next(10, 900));
        }
        if (rnd.NextDouble() < 0.3)
            s.String(Col("attributes___user___id"), $"u{user}");
        s.String(Col("resource"), $"{{\"host\":\"h{instance}\"}}");
        s.String(Col("resource___service___name"), svc);
        s.String(Col("resource___service___version"), $"1.{service}.{instance}");
        s.String(Col("resource___service___instance___id"), $"{svc}-{instance}");
        s.String(Col("resource___service___namespace"), ns);
        s.String(Col("resource___telemetry___sdk___language"), lang);
        s.String(Col("project_id"), _projectId);
        if (level == "ERROR")
            s.List(Col("summary"), ["error", svc]);
        s.Int64(Col("message_size_bytes"), rnd.Next(200, 4_000));
    }

    private int PickService()
    {
        var x = _random.Next(_serviceCumulative[^1]);
        for (var i = 0; i < _serviceCumulative.Length; i++)
        {
            if (x < _serviceCumulative[i])
                return i;
        }
        return 0;
    }

    private double Gaussian()
    {
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private string Hex(int chars)
    {
        Span<byte> bytes = stackalloc byte[(chars + 1) / 2];
        _random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes)[..chars];
    }

    private string Uuid(long seq)
    {
        Span<byte> bytes = stackalloc byte[16];
        _random.NextBytes(bytes);
        BitConverter.TryWriteBytes(bytes, seq);
        return new Guid(bytes).ToString();
    }

    /// <summary>One builder per column; cells not written in a row become null.</summary>
    private sealed class Sink
    {
        private readonly TableSchema _schema;
        private readonly IArrowArrayBuilder[] _builders;
        private readonly bool[] _written;
        private readonly int _rows;

        public Sink(TableSchema schema, int rows)
        {
            _schema = schema;
            _rows = rows;
            _builders = schema.Columns.Select(c => (IArrowArrayBuilder)(c.Type switch
            {
                ColumnType.Utf8 or ColumnType.Json => new StringArray.Builder(),
                ColumnType.Int32 => new Int32Array.Builder().Reserve(rows),
                ColumnType.Int64 => new Int64Array.Builder().Reserve(rows),
                ColumnType.Boolean => new BooleanArray.Builder().Reserve(rows),
                ColumnType.TimestampUs => new TimestampArray.Builder((TimestampType)ColumnTypeMapping.ToArrow(ColumnType.TimestampUs)).Reserve(rows),
                ColumnType.Date => new Date32Array.Builder().Reserve(rows),
                ColumnType.Utf8List => new ListArray.Builder(StringType.Default),
                _ => throw new NotSupportedException(c.Type.ToString()),
            })).ToArray();
            _written = new bool[_builders.Length];
        }

        public void String(int c, string value)
        {
            ((StringArray.Builder)_builders[c]).Append(value);
            _written[c] = true;
        }

        public void Int32(int c, int value)
        {
            ((Int32Array.Builder)_builders[c]).Append(value);
            _written[c] = true;
        }

        public void Int64(int c, long value)
        {
            ((Int64Array.Builder)_builders[c]).Append(value);
            _written[c] = true;
        }

        public void Bool(int c, bool value)
        {
            ((BooleanArray.Builder)_builders[c]).Append(value);
            _written[c] = true;
        }

        public void Timestamp(int c, long epochUs)
        {
            ((TimestampArray.Builder)_builders[c]).Append(DateTimeOffset.FromUnixTimeMilliseconds(0).AddTicks(epochUs * 10));
            _written[c] = true;
        }

        public void Date(int c, long epochUs)
        {
            ((Date32Array.Builder)_builders[c]).Append(DateOnly.FromDateTime(DateTime.UnixEpoch.AddTicks(epochUs * 10)));
            _written[c] = true;
        }

        public void List(int c, string[] values)
        {
            var b = (ListArray.Builder)_builders[c];
            b.Append();
            var items = (StringArray.Builder)b.ValueBuilder;
            foreach (var v in values)
                items.Append(v);
            _written[c] = true;
        }

        public void EndRow()
        {
            for (var c = 0; c < _builders.Length; c++)
            {
                if (_written[c])
                {
                    _written[c] = false;
                    continue;
                }
                switch (_builders[c])
                {
                    case StringArray.Builder b: b.AppendNull(); break;
                    case Int32Array.Builder b: b.AppendNull(); break;
                    case Int64Array.Builder b: b.AppendNull(); break;
                    case BooleanArray.Builder b: b.AppendNull(); break;
                    case TimestampArray.Builder b: b.AppendNull(); break;
                    case Date32Array.Builder b: b.AppendNull(); break;
                    case ListArray.Builder b: b.AppendNull(); break;
                }
            }
        }

        public RecordBatch Build()
        {
            var arrays = _builders.Select(b => b switch
            {
                StringArray.Builder s => (IArrowArray)s.Build(),
                Int32Array.Builder s => s.Build(),
                Int64Array.Builder s => s.Build(),
                BooleanArray.Builder s => s.Build(),
                TimestampArray.Builder s => s.Build(),
                Date32Array.Builder s => s.Build(),
                ListArray.Builder s => s.Build(),
                _ => throw new NotSupportedException(),
            }).ToList();
            return new RecordBatch(_schema.ToArrowSchema(), arrays, _rows);
        }
    }
}
