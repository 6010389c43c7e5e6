using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using TimeFusion.Otlp.Collector.Logs.V1;
using TimeFusion.Otlp.Collector.Trace.V1;
using TimeFusion.Otlp.Common.V1;
using TimeFusion.Otlp.Trace.V1;
using RpcStatus = TimeFusion.Otlp.Rpc.Status;

namespace TimeFusion.Tests.Otlp;

/// <summary>OTLP/HTTP as curl would send it (plain HttpClient): JSON, gzip, malformed bodies, auth, limits; and OTLP/gRPC's error codes.</summary>
public sealed class OtlpHttpTests(OtlpTestSilo silo) : IClassFixture<OtlpTestSilo>
{
    private const string TraceJson = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"curl-svc"}},{"key":"host.cores","value":{"intValue":"8"}}]},
         "scopeSpans":[{"scope":{"name":"manual","version":"1.0"},"spans":[
          {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173","name":"GET /json",
           "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661500000000","kind":2,"flags":257,
           "attributes":[{"key":"http.response.status_code","value":{"intValue":"404"}},{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"boolValue":true}]}}},
                         {"key":"ratio","value":{"doubleValue":0.25}},{"key":"raw","value":{"bytesValue":"AQID"}}],
           "status":{"code":2,"message":"not found"},"unknownFieldIsIgnored":1}]}]}]}
        """;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<HttpResponseMessage> PostAsync(string path, HttpContent content, string project, string password = OtlpTestSilo.Password, bool header = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, silo.HttpBase + path) { Content = content };
        request.Headers.Authorization = OtlpTestSilo.Basic(project, password);
        if (header) request.Headers.Add("X-TimeFusion-Project", project);
        return await silo.Http.SendAsync(request);
    }

    [Fact]
    public async Task Otlp_json_spans_land_with_hex_ids_and_typed_attributes()
    {
        using var response = await PostAsync("/v1/traces", Json(TraceJson), "json", header: false); // the user's default project
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using (var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
            Assert.False(body.RootElement.TryGetProperty("partialSuccess", out _));

        var row = Assert.Single(await silo.QueryAsync("json",
            "SELECT id, parent_id, context___trace_id, context___trace_flags, context___is_remote, name, kind, status_code, status_message, duration, " +
            "start_time, end_time, attributes, attributes___http___response___status_code, resource, resource___service___name FROM otel_logs_and_spans"));
        Assert.Equal("eee19b7ec3c1b174", row["id"]);
        Assert.Equal("eee19b7ec3c1b173", row["parent_id"]);
        Assert.Equal("5b8efff798038103d269b633813fc60c", row["context___trace_id"]);
        Assert.Equal("01", row["context___trace_flags"]);
        Assert.Equal(false, row["context___is_remote"]);
        Assert.Equal("GET /json", row["name"]);
        Assert.Equal("SERVER", row["kind"]);
        Assert.Equal("ERROR", row["status_code"]);
        Assert.Equal("not found", row["status_message"]);
        Assert.Equal(1_500_000_000L, row["duration"]);
        Assert.Equal(DateTime.UnixEpoch.AddTicks(1544712660000000000 / 100), (DateTime)row["start_time"]!);
        Assert.Equal(DateTime.UnixEpoch.AddTicks(1544712661500000000 / 100), (DateTime)row["end_time"]!);
        Assert.Equal(404, row["attributes___http___response___status_code"]);
        Assert.Equal("curl-svc", row["resource___service___name"]);
        using var attributes = JsonDocument.Parse((string)row["attributes"]!);
        Assert.Equal(404, attributes.RootElement.GetProperty("http.response.status_code").GetInt64());
        Assert.Equal("""["a",true]""", attributes.RootElement.GetProperty("tags").GetRawText());
        Assert.Equal(0.25, attributes.RootElement.GetProperty("ratio").GetDouble());
        Assert.Equal("AQID", attributes.RootElement.GetProperty("raw").GetString());
        using var resource = JsonDocument.Parse((string)row["resource"]!);
        Assert.Equal(8, resource.RootElement.GetProperty("host.cores").GetInt64());
    }

    [Fact]
    public async Task Gzip_json_logs_land()
    {
        const string logs = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gz"}}]},"scopeLogs":[{"logRecords":[
              {"timeUnixNano":"1700000000123456789","observedTimeUnixNano":"1700000000200000000","severityNumber":17,"severityText":"ERROR",
               "body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"disk full"}},{"key":"free","value":{"intValue":"0"}}]}},
               "traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","eventName":"disk.alert"},
              {"severityNumber":9,"body":{"stringValue":"no time at all"}}]}]}]}
            """;
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            await gzip.WriteAsync(Encoding.UTF8.GetBytes(logs));
        var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        var before = DateTime.UtcNow;
        using var response = await PostAsync("/v1/logs", content, "json-gzip");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var rows = await silo.QueryAsync("json-gzip",
            "SELECT timestamp, observed_timestamp, name, level, severity___severity_number, body, context___trace_id, context___span_id FROM otel_logs_and_spans ORDER BY severity___severity_number DESC");
        Assert.Equal(2, rows.Count);
        Assert.Equal(DateTime.UnixEpoch.AddTicks(1700000000123456789 / 1000 * 10), (DateTime)rows[0]["timestamp"]!);
        Assert.Equal(DateTime.UnixEpoch.AddTicks(1700000000200000000 / 100), (DateTime)rows[0]["observed_timestamp"]!);
        Assert.Equal("disk.alert", rows[0]["name"]);
        Assert.Equal("ERROR", rows[0]["level"]);
        Assert.Equal("0102030405060708090a0b0c0d0e0f10", rows[0]["context___trace_id"]);
        Assert.Equal("0102030405060708", rows[0]["context___span_id"]);
        using (var body = JsonDocument.Parse((string)rows[0]["body"]!))
        {
            Assert.Equal("disk full", body.RootElement.GetProperty("msg").GetString());
            Assert.Equal(0, body.RootElement.GetProperty("free").GetInt64());
        }
        Assert.Equal("INFO", rows[1]["level"]); // from the severity number
        Assert.True((DateTime)rows[1]["timestamp"]! >= before.AddSeconds(-1)); // no time: when it arrived
        Assert.Equal("\"no time at all\"", rows[1]["body"]);
    }

    [Theory]
    [InlineData("application/x-protobuf", "not protobuf \u00ff\u00ff\u00ff")]
    [InlineData("application/json", "{\"resourceSpans\": [")]
    [InlineData("application/json", "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\",\"spanId\":\"0102030405060708\"}]}]}]}")]
    [InlineData("application/json", "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"soon\"}]}]}]}")]
    public async Task A_malformed_body_gets_400_with_a_status_and_nothing_lands(string contentType, string body)
    {
        var content = new ByteArrayContent(Encoding.Latin1.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await PostAsync("/v1/traces", content, "malformed");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var status = contentType == "application/json"
            ? new JsonParser(JsonParser.Settings.Default).Parse<RpcStatus>(Encoding.UTF8.GetString(bytes))
            : RpcStatus.Parser.ParseFrom(bytes);
        Assert.Equal(3, status.Code); // INVALID_ARGUMENT
        Assert.False(string.IsNullOrEmpty(status.Message));
        Assert.Equal(0, await silo.CountAsync("malformed"));
    }

    [Fact]
    public async Task Items_with_bad_ids_are_refused_alone_and_counted_as_partial_success()
    {
        var request = new ExportTraceServiceRequest();
        var scope = new ScopeSpans();
        for (var i = 0; i < 5; i++)
        {
            scope.Spans.Add(new Span
            {
                TraceId = ByteString.CopyFrom(Enumerable.Range(1, 16).Select(b => (byte)(b + i)).ToArray()),
                SpanId = ByteString.CopyFrom(i == 2 ? new byte[3] : Enumerable.Range(1, 8).Select(b => (byte)(b + i)).ToArray()),
                Name = "op" + i, StartTimeUnixNano = 1_700_000_000_000_000_000UL + (ulong)i, EndTimeUnixNano = 1_700_000_000_000_000_000UL + 1000,
            });
        }
        request.ResourceSpans.Add(new ResourceSpans { ScopeSpans = { scope } });
        var content = new ByteArrayContent(request.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        using var response = await PostAsync("/v1/traces", content, "partial");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
        var answer = ExportTraceServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, answer.PartialSuccess.RejectedSpans);
        Assert.Contains("span_id", answer.PartialSuccess.ErrorMessage);
        var names = (await silo.QueryAsync("partial", "SELECT name FROM otel_logs_and_spans ORDER BY name")).Select(r => (string)r["name"]!);
        Assert.Equal(["op0", "op1", "op3", "op4"], names);
    }

    [Fact]
    public async Task Wrong_password_gets_401_and_a_project_not_granted_gets_403()
    {
        using (var response = await PostAsync("/v1/traces", Json(TraceJson), "auth", password: "wrong"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("Basic", response.Headers.WwwAuthenticate.ToString());
        }
        using (var request = new HttpRequestMessage(HttpMethod.Post, silo.HttpBase + "/v1/traces") { Content = Json(TraceJson) })
        using (var response = await silo.Http.SendAsync(request))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode); // no credentials at all
        using (var request = new HttpRequestMessage(HttpMethod.Post, silo.HttpBase + "/v1/logs") { Content = Json("{}") })
        {
            request.Headers.Authorization = OtlpTestSilo.Basic("auth");
            request.Headers.Add("X-TimeFusion-Project", "other");
            using var response = await silo.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        Assert.Equal(0, await silo.CountAsync("auth"));
        Assert.Equal(0, await silo.CountAsync("other"));
    }

    [Fact]
    public async Task Unknown_content_type_gets_415_and_a_body_over_the_cap_gets_413()
    {
        using (var response = await PostAsync("/v1/traces", new StringContent(TraceJson, Encoding.UTF8, "text/plain"), "big"))
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);

        // 2 MiB of attributes against the 1 MiB cap; and the same squeezed by gzip (the cap holds after decompression).
        var big = new ExportLogsServiceRequest();
        var logs = new TimeFusion.Otlp.Logs.V1.ScopeLogs();
        for (var i = 0; i < 64; i++)
            logs.LogRecords.Add(new TimeFusion.Otlp.Logs.V1.LogRecord { Body = new AnyValue { StringValue = new string('x', 32 * 1024) } });
        big.ResourceLogs.Add(new TimeFusion.Otlp.Logs.V1.ResourceLogs { ScopeLogs = { logs } });
        var raw = big.ToByteArray();
        var content = new ByteArrayContent(raw);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        using (var response = await PostAsync("/v1/logs", content, "big"))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);

        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) await gzip.WriteAsync(raw);
        Assert.True(compressed.Length < 1 << 20);
        var zipped = new ByteArrayContent(compressed.ToArray());
        zipped.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        zipped.Headers.ContentEncoding.Add("gzip");
        using (var response = await PostAsync("/v1/logs", zipped, "big"))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, await silo.CountAsync("big"));
    }

    [Fact]
    public async Task Grpc_refuses_bad_credentials_and_projects_with_their_codes()
    {
        using var channel = GrpcChannel.ForAddress(silo.GrpcBase);
        var client = new TraceService.TraceServiceClient(channel);
        var request = ExportTraceServiceRequest.Parser.ParseFrom(JsonParser.Default.Parse<ExportTraceServiceRequest>(
            """{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":"AQIDBAUGBwg=","name":"grpc"}]}]}]}""").ToByteArray());

        var unauthenticated = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(request,
            new Metadata { { "authorization", "Basic " + OtlpTestSilo.BasicValue("auth", "wrong") } }));
        Assert.Equal(StatusCode.Unauthenticated, unauthenticated.StatusCode);

        var denied = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(request,
            new Metadata { { "authorization", "Basic " + OtlpTestSilo.BasicValue("auth") }, { "x-timefusion-project", "other" } }));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        var ok = await client.ExportAsync(request, new Metadata { { "authorization", "Basic " + OtlpTestSilo.BasicValue("types") } });
        Assert.Null(ok.PartialSuccess);
        Assert.Equal("0102030405060708", (await silo.QueryAsync("types", "SELECT id FROM otel_logs_and_spans")).Single()["id"]);
        Assert.Equal(0, await silo.CountAsync("other"));
    }
}
