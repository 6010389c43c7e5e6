using System.Globalization;

namespace TimeFusion.Delta;

/// <summary>The JSON shape of one statistics value.</summary>
public enum DeltaStatKind
{
    /// <summary>JSON null.</summary>
    Null,
    /// <summary><c>true</c>/<c>false</c>.</summary>
    Boolean,
    /// <summary>A JSON number (kept as its exact text).</summary>
    Number,
    /// <summary>A JSON string (strings, dates, timestamps).</summary>
    String,
    /// <summary>A nested object: the statistics of a struct column's fields.</summary>
    Struct,
}

/// <summary>
/// One per-column statistics value (<c>minValues</c>/<c>maxValues</c>/<c>nullCount</c> entry) of
/// <see cref="DeltaFileStats"/>. Numbers keep their exact JSON text; typed readers interpret the value by the
/// column's type (timestamps are ISO-8601 strings, dates <c>yyyy-MM-dd</c>).
/// </summary>
public sealed class DeltaStatValue
{
    private static readonly IReadOnlyDictionary<string, DeltaStatValue> NoFields = new Dictionary<string, DeltaStatValue>();

    private DeltaStatValue(DeltaStatKind kind, string? text, bool boolean, IReadOnlyDictionary<string, DeltaStatValue>? fields)
    {
        Kind = kind;
        Text = text;
        _boolean = boolean;
        Fields = fields ?? NoFields;
    }

    private readonly bool _boolean;

    /// <summary>The JSON shape of the value.</summary>
    public DeltaStatKind Kind { get; }

    /// <summary>The string value, or the exact text of a number; null for other kinds.</summary>
    public string? Text { get; }

    /// <summary>The fields of a <see cref="DeltaStatKind.Struct"/> value (empty otherwise).</summary>
    public IReadOnlyDictionary<string, DeltaStatValue> Fields { get; }

    /// <summary>The JSON null value.</summary>
    public static DeltaStatValue Null { get; } = new(DeltaStatKind.Null, null, false, null);

    /// <summary>A 64-bit integer.</summary>
    public static DeltaStatValue FromInt64(long value) => new(DeltaStatKind.Number, value.ToString(CultureInfo.InvariantCulture), false, null);

    /// <summary>A finite double (JSON has no NaN or infinity; leave such statistics out).</summary>
    public static DeltaStatValue FromDouble(double value)
    {
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "statistics must be finite");
        return new(DeltaStatKind.Number, value.ToString("R", CultureInfo.InvariantCulture), false, null);
    }

    /// <summary>A decimal number.</summary>
    public static DeltaStatValue FromDecimal(decimal value) => new(DeltaStatKind.Number, value.ToString(CultureInfo.InvariantCulture), false, null);

    /// <summary>A boolean.</summary>
    public static DeltaStatValue FromBoolean(bool value) => new(DeltaStatKind.Boolean, null, value, null);

    /// <summary>A string.</summary>
    public static DeltaStatValue FromString(string value) => new(DeltaStatKind.String, value ?? throw new ArgumentNullException(nameof(value)), false, null);

    /// <summary>A timestamp given in microseconds since the Unix epoch (UTC), written as ISO-8601 with microseconds and <c>Z</c>.</summary>
    public static DeltaStatValue FromTimestampMicros(long micros) => FromString(DeltaTimestamps.FormatMicros(micros));

    /// <summary>A date, written as <c>yyyy-MM-dd</c>.</summary>
    public static DeltaStatValue FromDate(DateOnly date) => FromString(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));

    /// <summary>The statistics of a struct column's fields.</summary>
    public static DeltaStatValue FromStruct(IReadOnlyDictionary<string, DeltaStatValue> fields) =>
        new(DeltaStatKind.Struct, null, false, fields ?? throw new ArgumentNullException(nameof(fields)));

    /// <summary>A JSON number from its exact text (already validated by the JSON parser).</summary>
    internal static DeltaStatValue FromNumberText(string text) => new(DeltaStatKind.Number, text, false, null);

    /// <summary>Reads an integer value.</summary>
    public bool TryGetInt64(out long value)
    {
        value = 0;
        return Kind == DeltaStatKind.Number && long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Reads a numeric value as a double.</summary>
    public bool TryGetDouble(out double value)
    {
        value = 0;
        return Kind == DeltaStatKind.Number && double.TryParse(Text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Reads a boolean value.</summary>
    public bool TryGetBoolean(out bool value)
    {
        value = _boolean;
        return Kind == DeltaStatKind.Boolean;
    }

    /// <summary>Reads a string value.</summary>
    public bool TryGetString(out string value)
    {
        value = Text ?? "";
        return Kind == DeltaStatKind.String;
    }

    /// <summary>Reads a timestamp (an ISO-8601 string; no zone means UTC) as microseconds since the Unix epoch.</summary>
    public bool TryGetTimestampMicros(out long micros)
    {
        micros = 0;
        return Kind == DeltaStatKind.String && DeltaTimestamps.TryParseMicros(Text!, out micros);
    }

    /// <summary>Reads a date (<c>yyyy-MM-dd</c>).</summary>
    public bool TryGetDate(out DateOnly date)
    {
        date = default;
        return Kind == DeltaStatKind.String
            && DateOnly.TryParseExact(Text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        DeltaStatKind.Null => "null",
        DeltaStatKind.Boolean => _boolean ? "true" : "false",
        DeltaStatKind.Struct => "{" + string.Join(", ", Fields.Select(kv => kv.Key + ": " + kv.Value)) + "}",
        _ => Text!,
    };
}
