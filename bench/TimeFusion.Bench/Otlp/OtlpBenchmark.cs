using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;
using TimeFusion.Bench.Ingest;
using TimeFusion.Bench.Peers;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Otlp;

/// <summary>
/// <c>otlp [--rows N] [--batches 512,2048,8192] [--writers 4]</c>: one silo (durable ingest settings, WAL fsync per
/// commit), the same number of rows sent by concurrent writers as OTLP/HTTP protobuf exports, OTLP/gRPC exports (both
/// pre-encoded, so the sender's encoding is not measured) and Arrow Flight DoPut batches (one stream per writer, each
/// batch acknowledged before the next), for spans and log records, per batch size. Prints rows/s and the OTLP/Arrow
/// ratio as a markdown table (docs/BENCHMARKS.md "OTLP ingest").
/// </summary>
public static class OtlpBenchmark
{
    private static readonly Method<byte[], byte[]> TraceExport = RawMethod("opentelemetry.proto.collector.trace.v1.TraceService");
    private static readonly Method<byte[], byte[]> LogsExport = RawMethod("opentelemetry.proto.collector.logs.v1.LogsService");

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args);
        var rows = options.Int("rows", 262_144);
        var writers = options.Int("writers", 4);
        var sizes = (options.Get("batches") ?? "512,2048,8192").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-otlp-" + Guid.NewGuid().ToString("N"));
        Console.Error.WriteLine($"otlp: {rows} rows per run, {writers} writers, batches {string.Join("/", sizes)}, {Environment.ProcessorCount} cores");

        var settings = SiloSettings.Ingest();
        settings["Otlp:Enabled"] = "true";
        await using var silo = SiloProcess.Start(Path.Combine(root, "silo"), settings);
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        await FreePorts.WaitUntilListeningAsync(silo.OtlpHttpPort, TimeSpan.FromSeconds(30), silo.LogTail);
        var auth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("timefusion:timefusion"));
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = writers }) { Timeout = TimeSpan.FromMinutes(5) };
        using var otlpChannel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.OtlpGrpcPort}", new GrpcChannelOptions { MaxSendMessageSize = null });
        using var flightChannel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.FlightPort}", new GrpcChannelOptions { MaxSendMessageSize = null });
        var flight = new FlightClient(flightChannel);
        var results = new List<(string Signal, int Batch, string Path, double RowsPerSecond)>();
        var run = 0;

        try
        {
            foreach (var size in sizes)
            {
                var count = Math.Max(writers, rows / size);
                var generator = new OtlpRequestGenerator(size);
                var traces = Enumerable.Range(0, count).Select(_ => generator.Traces(size)).ToArray();
                var logs = Enumerable.Range(0, count).Select(_ => generator.Logs(size)).ToArray();
                foreach (var (signal, bodies, path, method) in new[] { ("spans", traces, "/v1/traces", TraceExport), ("log records", logs, "/v1/logs", LogsExport) })
                {
                    var project = $"otlp{run++}";
                    var arrow = new OtelRowGenerator(size, DateTimeOffset.UtcNow.AddDays(-1), projectId: project + "a");
                    var batches = Enumerable.Range(0, count).Select(_ => arrow.NextBatch(size)).ToArray();
                    var total = (long)count * size;
                    // Warm each door (connections, grains, JIT) before timing it.
                    await PostAsync(http, silo.OtlpHttpPort, path, bodies[0], auth, project + "h");
                    await GrpcAsync(otlpChannel, method, bodies[0], auth, project + "g");
                    await PutAsync(flight, project + "a", [batches[0]], auth);

                    var httpRate = total / await TimeAsync(count, writers, i => PostAsync(http, silo.OtlpHttpPort, path, bodies[i], auth, project + "h"));
                    var grpcRate = total / await TimeAsync(count, writers, i => GrpcAsync(otlpChannel, method, bodies[i], auth, project + "g"));
                    var arrowRate = total / await TimeStreamsAsync(count, writers, part => PutAsync(flight, project + "a", part.Select(i => batches[i]).ToArray(), auth));
                    results.Add((signal, size, "OTLP/HTTP protobuf", httpRate));
                    results.Add((signal, size, "OTLP/gRPC", grpcRate));
                    results.Add((signal, size, "Arrow Flight DoPut", arrowRate));
                    Console.Error.WriteLine($"  {signal,-11} batch {size,5}: HTTP {httpRate,9:N0}/s  gRPC {grpcRate,9:N0}/s  Arrow {arrowRate,9:N0}/s");
                }
            }
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or InvalidOperationException)
        {
            // A silo that died mid-run shows up here as "connection refused": its log says why.
            Console.Error.WriteLine($"otlp: failed; the silo's log: {silo.LogTail()}");
            throw;
        }
        await silo.StopAsync();
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }

        Console.WriteLine("| signal | batch | OTLP/HTTP protobuf rows/s | OTLP/gRPC rows/s | Arrow Flight DoPut rows/s | HTTP / Arrow | gRPC / Arrow |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var group in results.GroupBy(r => (r.Signal, r.Batch)))
        {
            double Rate(string p) => group.Single(r => r.Path == p).RowsPerSecond;
            var (h, g, a) = (Rate("OTLP/HTTP protobuf"), Rate("OTLP/gRPC"), Rate("Arrow Flight DoPut"));
            Console.WriteLine($"| {group.Key.Signal} | {group.Key.Batch:N0} | {h:N0} | {g:N0} | {a:N0} | {h / a:P0} | {g / a:P0} |");
        }
        return 0;
    }

    private static async Task<double> TimeAsync(int units, int writers, Func<int, Task> unit) =>
        (await ConcurrentWriters.RunAsync(units, writers, unit)).Elapsed.TotalSeconds;

    // Flight streams: each writer one DoPut carrying its share of the batches.
    private static async Task<double> TimeStreamsAsync(int units, int writers, Func<int[], Task> stream)
    {
        var parts = Enumerable.Range(0, writers).Select(w => Enumerable.Range(0, units).Where(i => i % writers == w).ToArray()).ToArray();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(parts.Select(p => Task.Run(() => stream(p))));
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task PostAsync(HttpClient http, int port, string path, byte[] body, string auth, string project)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}{path}") { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", auth);
        request.Headers.Add("X-TimeFusion-Project", project);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"OTLP/HTTP {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task GrpcAsync(GrpcChannel channel, Method<byte[], byte[]> method, byte[] body, string auth, string project) =>
        await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(new Metadata { { "authorization", auth }, { "x-timefusion-project", project } }), body);

    private static async Task PutAsync(FlightClient flight, string project, RecordBatch[] batches, string auth)
    {
        using var call = await flight.StartPut(FlightDescriptor.CreatePathDescriptor(project, "otel_logs_and_spans"), batches[0].Schema,
            new Metadata { { "authorization", auth } });
        foreach (var batch in batches)
        {
            await call.RequestStream.WriteAsync(batch);
            if (!await call.ResponseStream.MoveNext(CancellationToken.None)) throw new InvalidOperationException("DoPut ended without an acknowledgement");
        }
        await call.RequestStream.CompleteAsync();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
        }
    }

    private static Method<byte[], byte[]> RawMethod(string service) =>
        new(MethodType.Unary, service, "Export", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
}
