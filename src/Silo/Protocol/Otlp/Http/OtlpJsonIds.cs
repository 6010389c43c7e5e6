using System.Text.Json.Nodes;

namespace TimeFusion.Silo.Protocol.Otlp.Http;

/// <summary>
/// OTLP/JSON's one departure from the protobuf JSON mapping that Google.Protobuf's parser cannot take as is: trace and
/// span ids are hex strings, not base64 (OTLP specification, "JSON Protobuf Encoding"). This rewrites the values of
/// <c>traceId</c>, <c>spanId</c> and <c>parentSpanId</c> (and their snake_case forms) from hex to base64 before
/// parsing. Other bytes (an attribute's <c>bytesValue</c>) stay base64, as the specification says; attribute keys
/// and values live under <c>key</c>/<c>value</c>, so no attribute can be mistaken for an id.
/// </summary>
internal static class OtlpJsonIds
{
    /// <summary>The body with hex ids turned into base64; throws <see cref="OtlpFailureException"/> on bad JSON or a bad id.</summary>
    public static string Normalize(ReadOnlySpan<byte> json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new OtlpFailureException(OtlpFailureKind.Invalid, "the body is not valid JSON: " + e.Message);
        }
        if (root is not JsonObject) throw new OtlpFailureException(OtlpFailureKind.Invalid, "the body must be a JSON object");
        Rewrite(root);
        return root.ToJsonString();
    }

    private static void Rewrite(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                List<(string, string)>? changes = null;
                foreach (var (name, value) in obj)
                {
                    if (IsId(name) && value is JsonValue v && v.TryGetValue<string>(out var hex))
                        (changes ??= []).Add((name, ToBase64(name, hex)));
                    else
                        Rewrite(value);
                }
                if (changes is not null)
                    foreach (var (name, base64) in changes) obj[name] = base64;
                break;
            case JsonArray array:
                foreach (var item in array) Rewrite(item);
                break;
        }
    }

    private static bool IsId(string name) => name is "traceId" or "spanId" or "parentSpanId" or "trace_id" or "span_id" or "parent_span_id";

    private static string ToBase64(string name, string hex)
    {
        try
        {
            return Convert.ToBase64String(Convert.FromHexString(hex));
        }
        catch (FormatException)
        {
            throw new OtlpFailureException(OtlpFailureKind.Invalid, $"'{name}' must be a hex string, not '{(hex.Length > 40 ? hex[..40] + "…" : hex)}'");
        }
    }
}
