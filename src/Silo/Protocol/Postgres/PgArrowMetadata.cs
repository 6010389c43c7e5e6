using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>
/// How Arrow fields say what PostgreSQL type they stand for beyond their physical type: JSON strings
/// (→ <c>jsonb</c>) and 16-byte UUIDs (→ <c>uuid</c>), by Arrow canonical extension name or our logical-type key.
/// </summary>
public static class PgArrowMetadata
{
    /// <summary>The Arrow field metadata key naming an extension type.</summary>
    public const string ExtensionNameKey = TimeFusion.Wire.ArrowJsonFields.ExtensionNameKey;

    /// <summary>The canonical Arrow JSON extension (storage utf8).</summary>
    public const string JsonExtensionName = TimeFusion.Wire.ArrowJsonFields.JsonExtensionName;

    /// <summary>The canonical Arrow UUID extension (storage fixed_size_binary(16)).</summary>
    public const string UuidExtensionName = "arrow.uuid";

    /// <summary>The canonical Arrow 8-bit boolean extension (storage int8), which DuckDB's lossless Arrow export uses.</summary>
    public const string Bool8ExtensionName = "arrow.bool8";

    /// <summary>TimeFusion's own logical-type key (also used in Delta schemas), value <c>json</c> or <c>uuid</c>.</summary>
    public const string LogicalTypeKey = "timefusion.logicalType";

    /// <summary>Whether the field holds JSON text.</summary>
    public static bool IsJson(Field field) =>
        HasMarker(field, JsonExtensionName, "json") || field.DataType is ExtensionType { Name: JsonExtensionName };

    /// <summary>Whether the field holds UUIDs (16 bytes, RFC 4122 byte order).</summary>
    public static bool IsUuid(Field field) =>
        field.DataType is GuidType
        || (field.DataType is FixedSizeBinaryType { ByteWidth: 16 } && HasMarker(field, UuidExtensionName, "uuid"));

    /// <summary>Whether the field holds booleans stored as int8 (the <c>arrow.bool8</c> extension).</summary>
    public static bool IsBool8(Field field) =>
        field.DataType is Bool8Type
        || (field.DataType is Int8Type && field.HasMetadata
            && field.Metadata.TryGetValue(ExtensionNameKey, out var ext) && ext == Bool8ExtensionName);

    /// <summary>
    /// Whether the field holds 128-bit integers DuckDB exports losslessly as <c>arrow.opaque</c>
    /// fixed_size_binary(16) (HUGEINT, e.g. <c>sum()</c> of integers; UHUGEINT when <paramref name="unsigned"/>).
    /// </summary>
    public static bool IsHugeInt(Field field, out bool unsigned)
    {
        unsigned = false;
        if (field.DataType is not FixedSizeBinaryType { ByteWidth: 16 } || !field.HasMetadata
            || !field.Metadata.TryGetValue(ExtensionNameKey, out var ext) || ext != "arrow.opaque"
            || !field.Metadata.TryGetValue("ARROW:extension:metadata", out var meta))
        {
            return false;
        }
        unsigned = meta.Contains("\"uhugeint\"", StringComparison.Ordinal);
        return unsigned || meta.Contains("\"hugeint\"", StringComparison.Ordinal);
    }

    /// <summary>A field marked as JSON text (utf8 storage).</summary>
    public static Field JsonField(string name, bool nullable = true) =>
        new(name, StringType.Default, nullable, [new(ExtensionNameKey, JsonExtensionName)]);

    /// <summary>A field marked as UUID (fixed_size_binary(16) storage).</summary>
    public static Field UuidField(string name, bool nullable = true) =>
        new(name, new FixedSizeBinaryType(16), nullable, [new(ExtensionNameKey, UuidExtensionName)]);

    private static bool HasMarker(Field field, string extensionName, string logicalType) =>
        field.HasMetadata
        && ((field.Metadata.TryGetValue(ExtensionNameKey, out var ext) && ext == extensionName)
            || (field.Metadata.TryGetValue(LogicalTypeKey, out var lt) && string.Equals(lt, logicalType, StringComparison.OrdinalIgnoreCase)));
}
