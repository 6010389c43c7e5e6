using System.Text.Json;
using Apache.Arrow;
using TimeFusion.Client.Cli.Flight;

namespace TimeFusion.Client.Cli.Query;

/// <summary>
/// A JSON array with one object per row, keyed by column name: numbers and booleans as JSON numbers and booleans,
/// timestamps as ISO 8601 strings, lists as arrays, NULL as null. Streams batch by batch.
/// </summary>
public sealed class JsonResultWriter(Stream output) : IResultWriter
{
    /// <inheritdoc />
    public async Task<long> WriteAsync(QueryStream result, CancellationToken ct)
    {
        await using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var names = result.Schema.FieldsList.Select(f => JsonEncodedText.Encode(f.Name)).ToArray();
        json.WriteStartArray();
        long rows = 0;
        await foreach (var batch in result.Batches.WithCancellation(ct))
        {
            for (var r = 0; r < batch.Length; r++, rows++)
            {
                json.WriteStartObject();
                for (var c = 0; c < batch.ColumnCount; c++)
                {
                    json.WritePropertyName(names[c]);
                    ArrowJson.WriteValue(json, batch.Column(c), r);
                }
                json.WriteEndObject();
            }
            await json.FlushAsync(ct);
        }
        json.WriteEndArray();
        await json.FlushAsync(ct);
        await output.WriteAsync("\n"u8.ToArray(), ct);
        await output.FlushAsync(ct);
        return rows;
    }
}
