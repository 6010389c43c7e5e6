using System.Diagnostics;
using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Suite;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// <c>writepath [--paths sdk,sdk30,doput,copycsv,insert30,otlpgrpc,otlphttp,otlpgrpclogs,doputotel] [--seconds 15] [--rows 200000] [--trace /path/dotnet-trace] [--out DIR] [--set Key=Value,…] [--env NAME=VALUE,…]</c>:
/// each write path in turn drives a fresh silo (durable ingest settings, flushing running) continuously; after a
/// warm-up, the silo's CPU time (utime + stime) and the rows acknowledged are taken over a window of
/// <c>--seconds</c> — with <c>--trace</c>, dotnet-trace samples the silo over the same window (thread-time profile,
/// speedscope output next to the nettrace) so that <c>bench/tools/write_path_stages.py</c> can split the CPU time per row
/// into stages. The OTLP paths send pre-encoded 8,192-item exports of <see cref="Otlp.OtlpRequestGenerator"/> (spans, or
/// log records for <c>otlpgrpclogs</c>); <c>doputotel</c> is their Arrow counterpart (the <c>otlp</c> benchmark's DoPut of
/// <see cref="OtelRowGenerator"/> batches of 8,192 rows).
/// </summary>
public static class WritePathProfile
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var paths = (args.Get("paths") ?? "sdk,doput,copycsv,insert30").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var seconds = args.Int("seconds", 15);
        var trace = args.Get("trace");
        var outDir = Path.GetFullPath(args.Get("out") ?? Path.Combine(Path.GetTempPath(), "tf-writepath"));
        Directory.CreateDirectory(outDir);
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-writepath-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var rows = args.Long("rows", 200_000);
        // --set Buffer:MaxCoalescedRows=0,Flush:MaxBufferAge=00:00:10 : silo settings on top of the durable-ingest ones.
        // An older build's silo for a before/after on the same machine (e.g. a worktree of the previous commit).
        if (args.Get("silo-dll") is { } siloDll) SiloProcess.DefaultSiloDll = Path.GetFullPath(siloDll);
        var extra = (args.Get("set") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        // --env DOTNET_X=1,… : environment variables of the silo process only (not the bench's own client).
        var environment = (args.Get("env") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        var set = await Dataset.GenerateAsync(Path.Combine(root, "rows.arrow"), rows, 8192, seed: 1);
        var batches = await set.LoadAsync();
        var small = SmallRows.From(batches, rows);
        Console.WriteLine($"writepath: {rows:N0} rows ({set.ArrowBytesPerRow:N0} B/row of full-width Arrow; {small.ArrowBytesPerRow:N0} B/row in the 15 small-statement columns), window {seconds} s, trace {(trace is null ? "off" : "on")}");
        Console.WriteLine("| path | rows in window | rows/s | silo CPU s | CPU µs/row |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var path in paths)
        {
            var figure = await ProfileAsync(path, batches, small, seconds, trace, outDir, root, extra, environment);
            Console.WriteLine($"| {path} | {figure.Rows:N0} | {figure.Rows / figure.Seconds:N0} | {figure.CpuSeconds:F2} | {figure.CpuSeconds * 1e6 / Math.Max(1, figure.Rows):F1} |");
            await File.WriteAllTextAsync(Path.Combine(outDir, path + ".json"),
                string.Create(CultureInfo.InvariantCulture, $"{{\"path\":\"{path}\",\"rows\":{figure.Rows},\"seconds\":{figure.Seconds},\"cpuSeconds\":{figure.CpuSeconds}}}"));
        }
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        return 0;
    }

    private sealed record Window(long Rows, double Seconds, double CpuSeconds);

    private static async Task<Window> ProfileAsync(string path, IReadOnlyList<RecordBatch> batches, SmallRows small, int seconds, string? trace, string outDir, string root, Dictionary<string, string> extra,
        Dictionary<string, string> environment)
    {
        var settings = SiloSettings.Ingest();
        if (path.StartsWith("otlp", StringComparison.Ordinal)) settings["Otlp:Enabled"] = "true";
        foreach (var (k, v) in extra) settings[k] = v;
        await using var silo = SiloProcess.Start(Path.Combine(root, $"silo-{path}-{Guid.NewGuid():N}"), settings, environment: environment);
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        await FreePorts.WaitUntilListeningAsync(silo.PostgresPort, TimeSpan.FromSeconds(30), silo.LogTail);
        await FreePorts.WaitUntilListeningAsync(silo.FlightPort, TimeSpan.FromSeconds(30), silo.LogTail);
        if (path.StartsWith("otlp", StringComparison.Ordinal)) await FreePorts.WaitUntilListeningAsync(silo.OtlpGrpcPort, TimeSpan.FromSeconds(30), silo.LogTail);
        using var stop = new CancellationTokenSource();
        var acknowledged = new long[1];
        var load = path switch
        {
            "sdk" => SdkAsync(silo, batches, acknowledged, stop.Token),
            "sdk30" => SdkSmallAsync(silo, batches, acknowledged, stop.Token),
            "doput" => DoPutAsync(silo, batches, acknowledged, stop.Token),
            "copycsv" => CopyCsvAsync(silo, small, acknowledged, stop.Token),
            "insert30" => InsertAsync(silo, small, acknowledged, stop.Token),
            "otlpgrpc" => OtlpAsync(silo, grpc: true, logs: false, acknowledged, stop.Token),
            "otlpgrpclogs" => OtlpAsync(silo, grpc: true, logs: true, acknowledged, stop.Token),
            "otlphttp" => OtlpAsync(silo, grpc: false, logs: false, acknowledged, stop.Token),
            "doputotel" => DoPutAsync(silo, OtelBatches(), acknowledged, stop.Token),
            _ => throw new ArgumentException($"unknown path '{path}' (sdk, sdk30, doput, copycsv, insert30, otlpgrpc, otlpgrpclogs, otlphttp, doputotel)"),
        };
        // Warm-up: JIT, grain activation, connection pools, the first flushes.
        await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(4)));
        if (load.IsFaulted) await load;
        var rows0 = Interlocked.Read(ref acknowledged[0]);
        var cpu0 = CpuSeconds(silo.Pid);
        var clock = Stopwatch.StartNew();
        if (trace is not null)
        {
            var info = new ProcessStartInfo(trace) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "collect", "-p", silo.Pid.ToString(CultureInfo.InvariantCulture), "--profile", "dotnet-sampled-thread-time",
                         "--format", "Speedscope", "--duration", $"00:00:00:{seconds:00}", "-o", Path.Combine(outDir, path + ".nettrace") })
                info.ArgumentList.Add(a);
            using var tracer = Process.Start(info)!;
            var output = tracer.StandardOutput.ReadToEndAsync();
            var errors = tracer.StandardError.ReadToEndAsync();
            await tracer.WaitForExitAsync();
            if (tracer.ExitCode != 0) Console.Error.WriteLine($"dotnet-trace exited {tracer.ExitCode}: {await output} {await errors}");
        }
        else
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds));
        }
        var window = new Window(Interlocked.Read(ref acknowledged[0]) - rows0, clock.Elapsed.TotalSeconds, CpuSeconds(silo.Pid) - cpu0);
        await stop.CancelAsync();
        try
        {
            await load;
        }
        catch (Exception e) when (e is OperationCanceledException || e.InnerException is OperationCanceledException || stop.IsCancellationRequested)
        {
            // The load stops mid-statement.
        }
        await silo.StopAsync();
        return window;
    }

    private static double CpuSeconds(int pid) => ProcessCpu.Seconds(pid);

    private const int Writers = 4;

    private static async Task SdkAsync(SiloProcess silo, IReadOnlyList<RecordBatch> batches, long[] acknowledged, CancellationToken stop)
    {
        var client = await silo.ClientAsync(Caller.Admin());
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var batch = batches[(int)((uint)Interlocked.Increment(ref next) % batches.Count)];
                await client.InsertAsync("p0", OtelLogsAndSpans.TableName, batch);
                Interlocked.Add(ref acknowledged[0], batch.Length);
            }
        })));
    }

    /// <summary>30-row batches (full width) from 16 concurrent SDK writers: small batches without SQL planning.</summary>
    private static async Task SdkSmallAsync(SiloProcess silo, IReadOnlyList<RecordBatch> batches, long[] acknowledged, CancellationToken stop)
    {
        var client = await silo.ClientAsync(Caller.Admin());
        var slices = batches.SelectMany(b => Enumerable.Range(0, b.Length / 30).Select(i => b.Slice(i * 30, 30))).ToArray();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var batch = slices[(int)((uint)Interlocked.Increment(ref next) % slices.Length)];
                await client.InsertAsync("p0", OtelLogsAndSpans.TableName, batch);
                Interlocked.Add(ref acknowledged[0], batch.Length);
            }
        })));
    }

    private static Task DoPutAsync(SiloProcess silo, IReadOnlyList<RecordBatch> batches, long[] acknowledged, CancellationToken stop)
    {
        var auth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("timefusion:timefusion"));
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.FlightPort}", new GrpcChannelOptions { MaxSendMessageSize = null });
        var flight = new FlightClient(channel);
        return Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            using var call = await flight.StartPut(FlightDescriptor.CreatePathDescriptor("p0", OtelLogsAndSpans.TableName), batches[0].Schema, new Metadata { { "authorization", auth } });
            for (var i = w; !stop.IsCancellationRequested; i += Writers)
            {
                var batch = batches[i % batches.Count];
                await call.RequestStream.WriteAsync(batch);
                if (!await call.ResponseStream.MoveNext(CancellationToken.None)) throw new InvalidOperationException("DoPut ended without an acknowledgement");
                Interlocked.Add(ref acknowledged[0], batch.Length);
            }
            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        }))).ContinueWith(t => { channel.Dispose(); return t; }, TaskScheduler.Default).Unwrap();
    }

    private const int OtlpItems = 8192;

    private static RecordBatch[] OtelBatches()
    {
        var generator = new OtelRowGenerator(OtlpItems, DateTimeOffset.UtcNow.AddDays(-1), projectId: "p0");
        return Enumerable.Range(0, 16).Select(_ => generator.NextBatch(OtlpItems)).ToArray();
    }

    /// <summary>Pre-encoded 8,192-item OTLP exports (spans or log records) over OTLP/gRPC or OTLP/HTTP protobuf, from 4 writers.</summary>
    private static Task OtlpAsync(SiloProcess silo, bool grpc, bool logs, long[] acknowledged, CancellationToken stop)
    {
        var generator = new Otlp.OtlpRequestGenerator(OtlpItems);
        var bodies = Enumerable.Range(0, 16).Select(_ => logs ? generator.Logs(OtlpItems) : generator.Traces(OtlpItems)).ToArray();
        var auth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("timefusion:timefusion"));
        var service = logs ? "opentelemetry.proto.collector.logs.v1.LogsService" : "opentelemetry.proto.collector.trace.v1.TraceService";
        var method = new Method<byte[], byte[]>(MethodType.Unary, service, "Export", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.OtlpGrpcPort}", new GrpcChannelOptions { MaxSendMessageSize = null });
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Writers }) { Timeout = TimeSpan.FromMinutes(5) };
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var body = bodies[(int)((uint)Interlocked.Increment(ref next) % bodies.Length)];
                if (grpc)
                {
                    await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(new Metadata { { "authorization", auth }, { "x-timefusion-project", "p0" } }), body);
                }
                else
                {
                    var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-protobuf");
                    using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{silo.OtlpHttpPort}/v1/{(logs ? "logs" : "traces")}") { Content = content };
                    request.Headers.TryAddWithoutValidation("Authorization", auth);
                    request.Headers.Add("X-TimeFusion-Project", "p0");
                    using var response = await http.SendAsync(request);
                    response.EnsureSuccessStatusCode();
                }
                Interlocked.Add(ref acknowledged[0], OtlpItems);
            }
        }))).ContinueWith(t => { channel.Dispose(); http.Dispose(); return t; }, TaskScheduler.Default).Unwrap();
    }

    private static NpgsqlDataSource Source(SiloProcess silo)
    {
        var builder = new NpgsqlDataSourceBuilder($"Host=127.0.0.1;Port={silo.PostgresPort};Username=timefusion;Password=timefusion;Database=timefusion;Command Timeout=0;Maximum Pool Size=32");
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        return builder.Build();
    }

    /// <summary>COPY … FROM STDIN (FORMAT csv) of 8,192 rows per statement on 4 connections (what psql's \copy sends).</summary>
    private static Task CopyCsvAsync(SiloProcess silo, SmallRows rows, long[] acknowledged, CancellationToken stop)
    {
        const int perStatement = 8192;
        var chunks = new List<(string Csv, int Rows)>();
        for (var first = 0; first < rows.Count; first += perStatement)
        {
            var sb = new StringBuilder();
            var n = Math.Min(perStatement, rows.Count - first);
            for (var r = first; r < first + n; r++) rows.AppendCsv(sb, r);
            chunks.Add((sb.ToString(), n));
        }
        var source = Source(silo);
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            await using var conn = await source.OpenConnectionAsync();
            while (!stop.IsCancellationRequested)
            {
                var (csv, n) = chunks[(int)((uint)Interlocked.Increment(ref next) % chunks.Count)];
                await using (var writer = await conn.BeginTextImportAsync(SmallRows.CopyCsvSql(OtelLogsAndSpans.TableName)))
                    await writer.WriteAsync(csv);
                Interlocked.Add(ref acknowledged[0], n);
            }
        }))).ContinueWith(async t => { await source.DisposeAsync(); await t; }, TaskScheduler.Default).Unwrap();
    }

    private static async Task InsertAsync(SiloProcess silo, SmallRows rows, long[] acknowledged, CancellationToken stop)
    {
        await using var source = Source(silo);
        while (!stop.IsCancellationRequested)
            await SmallInsertSuite.RunStatementsAsync(source, OtelLogsAndSpans.TableName, rows, jsonb: false, stop, acknowledged);
    }
}
