using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using TimeFusion.Otlp.Collector.Logs.V1;
using TimeFusion.Otlp.Common.V1;
using TimeFusion.Otlp.Logs.V1;
using TimeFusion.Otlp.Rpc;

namespace TimeFusion.Tests.Otlp;

/// <summary>
/// Exporters faster than the silo can flush: OTLP/HTTP gets 429 with Retry-After, OTLP/gRPC RESOURCE_EXHAUSTED with a
/// google.rpc.RetryInfo, and every acknowledged record is stored while no refused one is.
/// </summary>
public sealed class OtlpBackpressureTests(OtlpTinyBudgetSilo silo) : IClassFixture<OtlpTinyBudgetSilo>
{
    private const int RecordsPerExport = 2000;

    private static ExportLogsServiceRequest Export(string tag)
    {
        var scope = new ScopeLogs();
        for (var i = 0; i < RecordsPerExport; i++)
        {
            scope.LogRecords.Add(new LogRecord
            {
                TimeUnixNano = 1_700_000_000_000_000_000UL + (ulong)i * 1000,
                SeverityNumber = SeverityNumber.Info,
                Body = new AnyValue { StringValue = $"{tag} record {i} " + new string('p', 200) },
                Attributes = { new KeyValue { Key = "i", Value = new AnyValue { IntValue = i } } },
            });
        }
        return new ExportLogsServiceRequest { ResourceLogs = { new ResourceLogs { ScopeLogs = { scope } } } };
    }

    [Fact]
    public async Task A_full_memory_budget_gets_429_or_resource_exhausted_with_retry_advice_and_nothing_acknowledged_is_lost()
    {
        var acked = new long[6];
        int throttledHttp = 0, throttledGrpc = 0;
        var retryAfterSeen = 0;
        var retryInfoSeen = 0;
        using var channel = GrpcChannel.ForAddress(silo.GrpcBase);
        var grpc = new LogsService.LogsServiceClient(channel);
        var deadline = DateTime.UtcNow.AddSeconds(90);

        await Task.WhenAll(Enumerable.Range(0, 12).Select(w => Task.Run(async () =>
        {
            var useGrpc = w % 2 == 1;
            var slot = (useGrpc ? 3 : 0) + w / 2 % 3;
            var project = (useGrpc ? "bp-grpc" : "bp-http") + (w / 2 % 3);
            var body = Export($"w{w}").ToByteArray();
            // Enough exports to fill the budget several times over; stop early once both doors have pushed back.
            for (var i = 0; i < 40 && DateTime.UtcNow < deadline; i++)
            {
                if (i >= 15 && Volatile.Read(ref throttledHttp) > 0 && Volatile.Read(ref throttledGrpc) > 0) break;
                if (useGrpc)
                {
                    try
                    {
                        var response = await grpc.ExportAsync(ExportLogsServiceRequest.Parser.ParseFrom(body),
                            new Metadata { { "authorization", "Basic " + OtlpTinyBudgetSilo.BasicValue(project) } });
                        Assert.Null(response.PartialSuccess);
                        Interlocked.Add(ref acked[slot], RecordsPerExport);
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
                    {
                        Interlocked.Increment(ref throttledGrpc);
                        var details = e.Trailers.GetValueBytes("grpc-status-details-bin");
                        Assert.NotNull(details);
                        var status = TimeFusion.Otlp.Rpc.Status.Parser.ParseFrom(details);
                        Assert.Equal((int)StatusCode.ResourceExhausted, status.Code);
                        var retry = status.Details.Single().Unpack<RetryInfo>();
                        Assert.Equal(TimeSpan.FromSeconds(3), retry.RetryDelay.ToTimeSpan());
                        Interlocked.Increment(ref retryInfoSeen);
                    }
                }
                else
                {
                    var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
                    using var request = new HttpRequestMessage(HttpMethod.Post, silo.HttpBase + "/v1/logs") { Content = content };
                    request.Headers.Authorization = OtlpTinyBudgetSilo.Basic(project);
                    using var response = await silo.Http.SendAsync(request);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Interlocked.Add(ref acked[slot], RecordsPerExport);
                        continue;
                    }
                    Assert.True(response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable, $"got {response.StatusCode}");
                    Interlocked.Increment(ref throttledHttp);
                    Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
                    Interlocked.Increment(ref retryAfterSeen);
                }
            }
        })));

        Assert.True(throttledHttp > 0, "OTLP/HTTP was never pushed back: the test did not apply pressure");
        Assert.True(throttledGrpc > 0, "OTLP/gRPC was never pushed back: the test did not apply pressure");
        Assert.Equal(throttledHttp, retryAfterSeen);
        Assert.Equal(throttledGrpc, retryInfoSeen);
        var projects = new[] { "bp-http0", "bp-http1", "bp-http2", "bp-grpc0", "bp-grpc1", "bp-grpc2" };
        for (var p = 0; p < projects.Length; p++)
            Assert.Equal(acked[p], await silo.CountAsync(projects[p])); // nothing acknowledged lost, nothing refused stored
        Assert.True(acked.Sum() > 0);
    }
}
