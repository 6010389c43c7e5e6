using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Google.Protobuf;
using TimeFusion.Otlp.Collector.Logs.V1;
using TimeFusion.Otlp.Collector.Trace.V1;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Cli;

/// <summary>
/// <c>timefusion gen --to URL</c> against a stand-in OTLP/HTTP receiver (HttpListener) that decodes what arrives with
/// the generated OTLP classes: protobuf bodies, Basic auth, one project per request, retries after 429 + Retry-After.
/// </summary>
[Collection(CliCollection.Name)] // one command-line process at a time: the suite shares two cores
public sealed class CliGenOtlpTests : IAsyncLifetime
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(string Path, string? Project, string? Auth, string? ContentType, byte[] Body)> _requests = new();
    private int _throttleFirst;
    private Task _serving = Task.CompletedTask;
    private string _url = "";

    public Task InitializeAsync()
    {
        var port = FreePorts.Take(1)[0];
        _url = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(_url);
        _listener.Start();
        _serving = Task.Run(ServeAsync);
        return Task.CompletedTask;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (Interlocked.Exchange(ref _throttleFirst, 0) == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers["Retry-After"] = "1";
                context.Response.Close();
                continue;
            }
            _requests.Enqueue((context.Request.Url!.AbsolutePath, context.Request.Headers["X-TimeFusion-Project"], context.Request.Headers["Authorization"],
                context.Request.ContentType, body.ToArray()));
            context.Response.ContentType = "application/x-protobuf";
            var reply = context.Request.Url.AbsolutePath == "/v1/traces" ? new ExportTraceServiceResponse().ToByteArray() : new ExportLogsServiceResponse().ToByteArray();
            await context.Response.OutputStream.WriteAsync(reply);
            context.Response.Close();
        }
    }

    public async Task DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
    }

    [Fact]
    public async Task Spans_and_logs_arrive_as_otlp_protobuf_per_project_and_a_429_is_retried()
    {
        _throttleFirst = 1;
        var result = await CliProcess.RunAsync(["gen", "--rows", "5000", "--minutes", "10", "--seed", "5", "--end", "2026-12-01T12:00:00Z",
            "--projects", "otlp-a,otlp-b", "--to", _url.TrimEnd('/'), "--user", "gen-user", "--password", "gen-pw"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("sent 5000 rows", result.StdOut);
        Assert.Equal(0, _throttleFirst); // the first request was answered 429 and sent again

        var requests = _requests.ToList();
        Assert.All(requests, r =>
        {
            Assert.Equal("application/x-protobuf", r.ContentType);
            Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("gen-user:gen-pw")), r.Auth);
            Assert.Contains(r.Project, new[] { "otlp-a", "otlp-b" });
        });
        var spans = requests.Where(r => r.Path == "/v1/traces")
            .SelectMany(r => ExportTraceServiceRequest.Parser.ParseFrom(r.Body).ResourceSpans.SelectMany(rs => rs.ScopeSpans.SelectMany(s => s.Spans)
                .Select(span => (r.Project, Service: rs.Resource.Attributes.Single(a => a.Key == "service.name").Value.StringValue, span))))
            .ToList();
        var logs = requests.Where(r => r.Path == "/v1/logs")
            .SelectMany(r => ExportLogsServiceRequest.Parser.ParseFrom(r.Body).ResourceLogs.SelectMany(rl => rl.ScopeLogs.SelectMany(s => s.LogRecords)))
            .ToList();
        // Every row arrived exactly once, the throttled request included.
        Assert.Equal(5000, spans.Count + logs.Count);
        Assert.Equal(spans.Count, spans.Select(s => s.span.SpanId).Distinct().Count());
        Assert.Equal(2, spans.Select(s => s.Project).Distinct().Count());

        // Parents are spans of the same trace; logs point at spans; errors carry status and an exception event.
        var byId = spans.ToDictionary(s => s.span.SpanId);
        foreach (var (_, _, span) in spans.Where(s => !s.span.ParentSpanId.IsEmpty))
        {
            if (byId.TryGetValue(span.ParentSpanId, out var parent)) Assert.Equal(parent.span.TraceId, span.TraceId);
        }
        Assert.True(spans.Count(s => !s.span.ParentSpanId.IsEmpty && byId.ContainsKey(s.span.ParentSpanId)) > spans.Count / 2);
        Assert.All(logs, l => Assert.Equal(16, l.TraceId.Length));
        Assert.Contains(spans, s => s.span.Status.Code == TimeFusion.Otlp.Trace.V1.Status.Types.StatusCode.Error && s.span.Events.Any(e => e.Name == "exception"));
        Assert.True(spans.Select(s => s.Service).Distinct().Count() >= 4);
    }

    [Fact]
    public async Task A_receiver_that_is_not_there_is_named_in_the_error()
    {
        var port = FreePorts.Take(1)[0];
        var result = await CliProcess.RunAsync(["gen", "--rows", "10", "--to", $"http://127.0.0.1:{port}"], timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot reach the OTLP receiver at http://127.0.0.1:{port}/", result.StdErr);
    }
}
