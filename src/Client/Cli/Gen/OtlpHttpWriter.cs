using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;

namespace TimeFusion.Client.Cli.Gen;

/// <summary>
/// Sends generated rows to an OTLP/HTTP receiver (<c>POST /v1/traces</c>, <c>/v1/logs</c>, protobuf bodies), one
/// request pair per project and batch, the project in <c>X-TimeFusion-Project</c> and the user in HTTP Basic.
/// 429 and 503 are retried after their <c>Retry-After</c>, as collectors do; rejected items (partial success) fail the run.
/// </summary>
public sealed class OtlpHttpWriter : ITelemetryWriter
{
    /// <summary>Rows per project buffered before they are sent.</summary>
    public const int BatchRows = 2048;

    private const int MaxAttempts = 10;
    private readonly Uri _endpoint;
    private readonly HttpClient _http;
    private readonly Dictionary<string, List<TelemetryRecord>> _pending = new(StringComparer.Ordinal);

    /// <summary>Sends to <paramref name="endpoint"/> (e.g. <c>http://127.0.0.1:4318</c>) as <paramref name="settings"/>' user.</summary>
    public OtlpHttpWriter(Uri endpoint, ConnectionSettings settings)
    {
        _endpoint = endpoint;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1) }) { Timeout = TimeSpan.FromSeconds(60) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.User}:{settings.Password}")));
    }

    /// <summary>Spans accepted so far.</summary>
    public long Spans { get; private set; }

    /// <summary>Log records accepted so far.</summary>
    public long Logs { get; private set; }

    /// <inheritdoc />
    public async ValueTask WriteAsync(TelemetryRecord record, CancellationToken ct)
    {
        if (!_pending.TryGetValue(record.ProjectId, out var list)) _pending[record.ProjectId] = list = new List<TelemetryRecord>(BatchRows);
        list.Add(record);
        if (list.Count >= BatchRows) await SendAsync(record.ProjectId, list, ct);
    }

    /// <inheritdoc />
    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        foreach (var (project, list) in _pending)
            if (list.Count > 0) await SendAsync(project, list, ct);
    }

    private async Task SendAsync(string project, List<TelemetryRecord> records, CancellationToken ct)
    {
        var traces = OtlpMapping.Traces(records);
        var logs = OtlpMapping.Logs(records);
        var spans = traces.ResourceSpans.Sum(r => r.ScopeSpans.Sum(s => s.Spans.Count));
        var logRecords = logs.ResourceLogs.Sum(r => r.ScopeLogs.Sum(s => s.LogRecords.Count));
        if (spans > 0)
        {
            var body = await PostAsync("v1/traces", project, traces, ct);
            var reply = Otlp.Collector.Trace.V1.ExportTraceServiceResponse.Parser.ParseFrom(body);
            if (reply.PartialSuccess is { RejectedSpans: > 0 } p)
                throw new CliException($"{_endpoint} rejected {p.RejectedSpans} of {spans} spans of project {project}: {p.ErrorMessage}");
            Spans += spans;
        }
        if (logRecords > 0)
        {
            var body = await PostAsync("v1/logs", project, logs, ct);
            var reply = Otlp.Collector.Logs.V1.ExportLogsServiceResponse.Parser.ParseFrom(body);
            if (reply.PartialSuccess is { RejectedLogRecords: > 0 } p)
                throw new CliException($"{_endpoint} rejected {p.RejectedLogRecords} of {logRecords} log records of project {project}: {p.ErrorMessage}");
            Logs += logRecords;
        }
        records.Clear();
    }

    private async Task<byte[]> PostAsync(string path, string project, IMessage message, CancellationToken ct)
    {
        var url = new Uri(_endpoint, path);
        var bytes = message.ToByteArray();
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            request.Headers.Add("X-TimeFusion-Project", project);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, ct);
            }
            catch (HttpRequestException e)
            {
                var reason = e.InnerException is SocketException s ? s.Message : e.Message;
                throw new CliException($"cannot reach the OTLP receiver at {_endpoint}: {reason}");
            }
            using (response)
            {
                if (response.IsSuccessStatusCode) return await response.Content.ReadAsByteArrayAsync(ct);
                if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && attempt < MaxAttempts)
                {
                    var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(Math.Min(30, 1 << attempt) / 4.0);
                    await Task.Delay(wait < TimeSpan.FromSeconds(30) ? wait : TimeSpan.FromSeconds(30), ct);
                    continue;
                }
                var text = response.Content.Headers.ContentType?.MediaType is "application/json" or "text/plain"
                    ? ": " + (await response.Content.ReadAsStringAsync(ct)).Trim()
                    : "";
                throw new CliException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase} for project {project}{text}");
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
