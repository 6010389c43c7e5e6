using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;
using TimeFusion.Otlp.Collector.Logs.V1;
using TimeFusion.Otlp.Collector.Metrics.V1;
using TimeFusion.Otlp.Collector.Trace.V1;
using TimeFusion.Silo.Protocol.Otlp.Mapping;
using RpcStatus = TimeFusion.Otlp.Rpc.Status;

namespace TimeFusion.Silo.Protocol.Otlp.Http;

/// <summary>
/// OTLP/HTTP (OTLP specification, "OTLP/HTTP"): <c>POST /v1/traces</c>, <c>/v1/logs</c>, <c>/v1/metrics</c> with a
/// protobuf (<c>application/x-protobuf</c>) or JSON (<c>application/json</c>) body, optionally gzip-encoded. Success is
/// 200 with the export response (partial success when items were refused) in the request's encoding; failures carry a
/// <c>google.rpc.Status</c> body: 400 malformed, 401, 403, 413, 415, and 429/503 with <c>Retry-After</c> when the
/// silo cannot take the rows now (nothing of the request was stored; the sender retries it whole).
/// </summary>
public static class OtlpHttpEndpoints
{
    private const string Protobuf = "application/x-protobuf";
    private const string Json = "application/json";

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>Maps the three export paths.</summary>
    public static IEndpointRouteBuilder MapOtlpHttp(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/traces", http => Handle(http, ExportTraceServiceRequest.Parser,
            (r, _) => SpanMapper.Map(r),
            (bytes, length, _) => OtlpProtobuf.Traces(bytes, 0, length),
            rows => new ExportTraceServiceResponse
            {
                PartialSuccess = rows.Rejected == 0 ? null : new ExportTracePartialSuccess { RejectedSpans = rows.Rejected, ErrorMessage = rows.Error ?? "" },
            }));
        endpoints.MapPost("/v1/logs", http => Handle(http, ExportLogsServiceRequest.Parser,
            LogMapper.Map,
            (bytes, length, now) => OtlpProtobuf.Logs(bytes, 0, length, now),
            rows => new ExportLogsServiceResponse
            {
                PartialSuccess = rows.Rejected == 0 ? null : new ExportLogsPartialSuccess { RejectedLogRecords = rows.Rejected, ErrorMessage = rows.Error ?? "" },
            }));
        endpoints.MapPost("/v1/metrics", http => Handle(http, ExportMetricsServiceRequest.Parser,
            (r, _) => MetricMapper.Map(r),
            null,
            rows => new ExportMetricsServiceResponse
            {
                PartialSuccess = rows.Rejected == 0 ? null : new ExportMetricsPartialSuccess { RejectedDataPoints = rows.Rejected, ErrorMessage = rows.Error ?? "" },
            }));
        return endpoints;
    }

    private static async Task Handle<TRequest, TResponse>(HttpContext http, MessageParser<TRequest> parser,
        Func<TRequest, long, MappedRows> map, Func<byte[], int, long, MappedRows>? protobuf, Func<MappedRows, TResponse> respond)
        where TRequest : IMessage<TRequest>, new()
        where TResponse : IMessage<TResponse>
    {
        var receiver = http.RequestServices.GetRequiredService<OtlpReceiver>();
        var json = IsJson(http.Request.ContentType);
        try
        {
            var access = await receiver.AuthorizeAsync(http.Request.Headers.Authorization.ToString(),
                http.Request.Headers[OtlpReceiver.ProjectHeader].ToString(), http.Connection.RemoteIpAddress, http.RequestAborted);
            if (!json && !IsProtobuf(http.Request.ContentType))
                throw new OtlpFailureException(OtlpFailureKind.Unsupported,
                    $"Content-Type '{http.Request.ContentType}' is not supported; use {Protobuf} or {Json}");
            MappedRows mapped;
            using (var body = await OtlpRequestBody.ReadAsync(http.Request, receiver.Options.MaxRequestBytes, http.RequestAborted))
            {
                // A protobuf body goes straight from its bytes into columns where a fast decoder exists (the rows copy
                // what they keep, so the body's buffer can go back to the pool right after).
                mapped = !json && protobuf is not null
                    ? protobuf(body.Array, body.Length, receiver.NowMicros)
                    : map(Decode(parser, body.Span, json), receiver.NowMicros);
            }
            var rows = await receiver.WriteAsync(mapped, access, http.RequestAborted);
            await Write(http, StatusCodes.Status200OK, respond(rows), json);
        }
        catch (OtlpFailureException e)
        {
            await Fail(http, receiver, e, json);
        }
    }

    private static TRequest Decode<TRequest>(MessageParser<TRequest> parser, ReadOnlySpan<byte> body, bool json)
        where TRequest : IMessage<TRequest>, new()
    {
        try
        {
            return json ? Parser.Parse<TRequest>(OtlpJsonIds.Normalize(body)) : parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OtlpFailureException(OtlpFailureKind.Invalid, (json ? "the body is not valid OTLP/JSON: " : "the body is not valid OTLP protobuf: ") + e.Message);
        }
        catch (InvalidJsonException e)
        {
            throw new OtlpFailureException(OtlpFailureKind.Invalid, "the body is not valid OTLP/JSON: " + e.Message);
        }
    }

    private static async Task Fail(HttpContext http, OtlpReceiver receiver, OtlpFailureException e, bool json)
    {
        var (status, grpcCode) = e.Kind switch
        {
            OtlpFailureKind.Unauthenticated => (StatusCodes.Status401Unauthorized, 16),
            OtlpFailureKind.PermissionDenied => (StatusCodes.Status403Forbidden, 7),
            OtlpFailureKind.Invalid => (StatusCodes.Status400BadRequest, 3),
            OtlpFailureKind.Unsupported => (StatusCodes.Status415UnsupportedMediaType, 3),
            OtlpFailureKind.TooLarge => (StatusCodes.Status413PayloadTooLarge, 8),
            OtlpFailureKind.Throttled => (StatusCodes.Status429TooManyRequests, 8),
            OtlpFailureKind.Unavailable => (StatusCodes.Status503ServiceUnavailable, 14),
            _ => (StatusCodes.Status500InternalServerError, 13),
        };
        if (e.IsRetryable)
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(receiver.Options.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (e.Kind == OtlpFailureKind.Unauthenticated)
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"TimeFusion\", charset=\"UTF-8\"";
        // The rest of an unread body is not wanted: close rather than drain it.
        if (e.Kind is OtlpFailureKind.TooLarge or OtlpFailureKind.Unauthenticated or OtlpFailureKind.PermissionDenied)
            http.Response.Headers.Connection = "close";
        await Write(http, status, new RpcStatus { Code = grpcCode, Message = e.Message }, json);
    }

    private static async Task Write(HttpContext http, int status, IMessage message, bool json)
    {
        http.Response.StatusCode = status;
        if (json)
        {
            http.Response.ContentType = Json;
            await http.Response.WriteAsync(JsonFormatter.Default.Format(message), http.RequestAborted);
        }
        else
        {
            http.Response.ContentType = Protobuf;
            var bytes = message.ToByteArray();
            http.Response.ContentLength = bytes.Length;
            await http.Response.Body.WriteAsync(bytes, http.RequestAborted);
        }
    }

    private static bool IsJson(string? contentType) => MediaTypeIs(contentType, Json);

    private static bool IsProtobuf(string? contentType) => MediaTypeIs(contentType, Protobuf);

    private static bool MediaTypeIs(string? contentType, string expected) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) && media.MediaType.Equals(expected, StringComparison.OrdinalIgnoreCase);
}
