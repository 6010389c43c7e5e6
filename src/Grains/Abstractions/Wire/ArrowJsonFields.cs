using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Wire;

/// <summary>
/// Marks result fields that hold JSON with the canonical Arrow extension <c>arrow.json</c> (storage utf8), so that every
/// front end sees the type DuckDB's binder gave them: the PostgreSQL protocol describes them as jsonb (OID 3802), Arrow
/// Flight clients read the extension. DuckDB exports its JSON type as plain utf8, hence the marking.
/// </summary>
public static class ArrowJsonFields
{
    /// <summary>The Arrow field metadata key naming an extension type.</summary>
    public const string ExtensionNameKey = "ARROW:extension:name";

    /// <summary>The canonical Arrow JSON extension.</summary>
    public const string JsonExtensionName = "arrow.json";

    /// <summary>
    /// <paramref name="schema"/> with the string fields at <paramref name="positions"/> marked <c>arrow.json</c> (their
    /// other metadata kept); the same schema when there is nothing to mark.
    /// </summary>
    public static Schema Mark(Schema schema, IReadOnlyList<int>? positions)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (positions is null || positions.Count == 0) return schema;
        var fields = schema.FieldsList.ToList();
        var changed = false;
        foreach (var i in positions)
        {
            if (i < 0 || i >= fields.Count) continue;
            var f = fields[i];
            if (f.DataType is not (StringType or LargeStringType or StringViewType)) continue;
            if (f.HasMetadata && f.Metadata.TryGetValue(ExtensionNameKey, out var ext) && ext == JsonExtensionName) continue;
            var metadata = f.HasMetadata ? new Dictionary<string, string>(f.Metadata) : [];
            metadata[ExtensionNameKey] = JsonExtensionName;
            fields[i] = new Field(f.Name, f.DataType, f.IsNullable, metadata);
            changed = true;
        }
        return changed ? new Schema(fields, schema.HasMetadata ? schema.Metadata : null) : schema;
    }
}
