using System.Globalization;
using System.Text;

namespace TimeFusion.Delta;

/// <summary>
/// Partition values as the log stores them: strings, serialized per the column's Delta type (PROTOCOL.md,
/// "Partition Value Serialization"). An empty string or a JSON null is a null value — taken from the log, never
/// from a folder name.
/// </summary>
public static class DeltaPartitionValues
{
    /// <summary>
    /// Parses a partition value by its column's Delta primitive type: string → <see cref="string"/>, long/integer/
    /// short/byte → long/int/short/sbyte, float/double, decimal(p,s) → <see cref="decimal"/>, boolean → bool, date →
    /// <see cref="DateOnly"/>, timestamp → <see cref="DateTimeOffset"/> (UTC), timestamp_ntz → <see cref="DateTime"/>
    /// (unspecified kind), binary → byte[]. Null or empty gives null.
    /// </summary>
    /// <exception cref="DeltaLogCorruptException">The value does not parse as its type, or the type cannot be a partition column.</exception>
    public static object? Parse(string? value, string deltaType, string column)
    {
        if (string.IsNullOrEmpty(value)) return null;
        var inv = CultureInfo.InvariantCulture;
        object? result = deltaType switch
        {
            "string" => value,
            "long" => long.TryParse(value, NumberStyles.AllowLeadingSign, inv, out var l) ? l : null,
            "integer" => int.TryParse(value, NumberStyles.AllowLeadingSign, inv, out var i) ? i : null,
            "short" => short.TryParse(value, NumberStyles.AllowLeadingSign, inv, out var s) ? s : null,
            "byte" => sbyte.TryParse(value, NumberStyles.AllowLeadingSign, inv, out var b) ? b : null,
            "double" => double.TryParse(value, NumberStyles.Float, inv, out var d) ? d : null,
            "float" => float.TryParse(value, NumberStyles.Float, inv, out var f) ? f : null,
            "boolean" => bool.TryParse(value, out var bo) ? bo : null,
            "date" => DateOnly.TryParseExact(value, "yyyy-MM-dd", inv, DateTimeStyles.None, out var date) ? date : null,
            "timestamp" => ParseTimestamp(value),
            "timestamp_ntz" => DateTime.TryParse(value, inv, DateTimeStyles.None, out var ntz) ? DateTime.SpecifyKind(ntz, DateTimeKind.Unspecified) : null,
            "binary" => ParseBinary(value),
            _ when deltaType.StartsWith("decimal", StringComparison.Ordinal) =>
                decimal.TryParse(value, NumberStyles.Float, inv, out var dec) ? dec : null,
            _ => throw new DeltaLogCorruptException($"partition column '{column}' has type '{deltaType}', which cannot be a partition column"),
        };
        return result ?? throw new DeltaLogCorruptException($"partition column '{column}': value '{value}' is not a valid {deltaType}");
    }

    /// <summary>Serializes a date partition value: <c>yyyy-MM-dd</c>.</summary>
    public static string FormatDate(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Serializes a value for the log (the inverse of <see cref="Parse"/>); null stays null.</summary>
    public static string? Format(object? value) => value switch
    {
        null => null,
        string s => s,
        DateOnly d => FormatDate(d),
        DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"cannot serialize a partition value of type {value.GetType().Name}", nameof(value)),
    };

    private static DateTimeOffset? ParseTimestamp(string value)
    {
        // "yyyy-MM-dd HH:mm:ss[.ffffff]" (no zone: we take UTC) or ISO-8601 with a zone.
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;
    }

    private static byte[]? ParseBinary(string value)
    {
        // The protocol stores binary as a string of escaped bytes: each char is one byte value.
        var bytes = new byte[value.Length];
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] > 0xFF) return Encoding.UTF8.GetBytes(value);
            bytes[i] = (byte)value[i];
        }
        return bytes;
    }
}
