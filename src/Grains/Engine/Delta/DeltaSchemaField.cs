using System.Text.Json;

namespace TimeFusion.Delta;

/// <summary>
/// A top-level field of a Delta <c>schemaString</c>, as far as the log reader needs it: its name, its type (a
/// primitive type name such as <c>long</c> or <c>decimal(10,2)</c>, or the JSON of a struct/array/map type) and nullability.
/// </summary>
/// <param name="Name">The column name.</param>
/// <param name="Type">Primitive type name, or the raw JSON of a complex type.</param>
/// <param name="IsPrimitive">Whether <paramref name="Type"/> is a primitive type name.</param>
/// <param name="Nullable">Whether the column allows nulls.</param>
public sealed record DeltaSchemaField(string Name, string Type, bool IsPrimitive, bool Nullable)
{
    /// <summary>Parses the top-level fields of a schema string.</summary>
    /// <exception cref="DeltaLogCorruptException">Not a Delta struct type.</exception>
    public static IReadOnlyList<DeltaSchemaField> ParseAll(string schemaString)
    {
        try
        {
            using var doc = JsonDocument.Parse(schemaString);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("fields", out var fields) || fields.ValueKind != JsonValueKind.Array)
                throw new DeltaLogCorruptException("metaData.schemaString is not a struct type with fields");
            var result = new List<DeltaSchemaField>(fields.GetArrayLength());
            foreach (var f in fields.EnumerateArray())
            {
                if (f.ValueKind != JsonValueKind.Object || !f.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String
                    || !f.TryGetProperty("type", out var t))
                    throw new DeltaLogCorruptException("metaData.schemaString has a field without a name or type");
                var nullable = !f.TryGetProperty("nullable", out var nl) || nl.ValueKind != JsonValueKind.False;
                result.Add(t.ValueKind == JsonValueKind.String
                    ? new DeltaSchemaField(n.GetString()!, t.GetString()!, true, nullable)
                    : new DeltaSchemaField(n.GetString()!, t.GetRawText(), false, nullable));
            }
            return result;
        }
        catch (JsonException e)
        {
            throw new DeltaLogCorruptException($"metaData.schemaString is not valid JSON ({e.Message})", e);
        }
    }
}
