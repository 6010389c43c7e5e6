using System.Buffers;
using System.Text;
using System.Text.Json;

namespace TimeFusion.Delta;

/// <summary>
/// Per-file statistics, the <c>stats</c> JSON of an <c>add</c> action (PROTOCOL.md, "Per-file Statistics"):
/// <c>{"numRecords":n,"minValues":{…},"maxValues":{…},"nullCount":{…}}</c>, nested for struct columns.
/// A file without stats has unknown row count and bounds — never zero.
/// </summary>
public sealed class DeltaFileStats
{
    private static readonly IReadOnlyDictionary<string, DeltaStatValue> Empty = new Dictionary<string, DeltaStatValue>();

    /// <summary>Number of records in the data file, if recorded.</summary>
    public long? NumRecords { get; init; }

    /// <summary>Whether bounds are tight (absent means true, per the protocol).</summary>
    public bool? TightBounds { get; init; }

    /// <summary>Per-column minimum values (top-level columns; struct columns nest).</summary>
    public IReadOnlyDictionary<string, DeltaStatValue> MinValues { get; init; } = Empty;

    /// <summary>Per-column maximum values.</summary>
    public IReadOnlyDictionary<string, DeltaStatValue> MaxValues { get; init; } = Empty;

    /// <summary>Per-column null counts (numbers; struct columns nest).</summary>
    public IReadOnlyDictionary<string, DeltaStatValue> NullCount { get; init; } = Empty;

    /// <summary>The null count of a top-level column, if recorded.</summary>
    public bool TryGetNullCount(string column, out long count)
    {
        count = 0;
        return NullCount.TryGetValue(column, out var v) && v.TryGetInt64(out count);
    }

    private string[]? _nullColumns;

    /// <summary>
    /// The top-level columns whose recorded null count is <see cref="NumRecords"/>: null in every row of the file, which
    /// may then lack them (our flushes leave them out, <c>Buffer:OmitNullColumns</c>). Sorted
    /// ordinally; empty when the row count is unknown. Computed once.
    /// </summary>
    public IReadOnlyList<string> NullColumns
    {
        get
        {
            var result = Volatile.Read(ref _nullColumns);
            if (result is null)
            {
                var names = new List<string>();
                if (NumRecords is { } rows)
                    foreach (var (name, value) in NullCount)
                        if (value.TryGetInt64(out var n) && n == rows)
                            names.Add(name);
                names.Sort(StringComparer.Ordinal);
                result = [.. names];
                Volatile.Write(ref _nullColumns, result);
            }
            return result;
        }
    }

    /// <summary>The minimum of a top-level timestamp column in microseconds since the epoch, if recorded.</summary>
    public bool TryGetMinTimestampMicros(string column, out long micros)
    {
        micros = 0;
        return MinValues.TryGetValue(column, out var v) && v.TryGetTimestampMicros(out micros);
    }

    /// <summary>The maximum of a top-level timestamp column in microseconds since the epoch, if recorded.</summary>
    public bool TryGetMaxTimestampMicros(string column, out long micros)
    {
        micros = 0;
        return MaxValues.TryGetValue(column, out var v) && v.TryGetTimestampMicros(out micros);
    }

    /// <summary>Parses a stats JSON string. Unknown keys are ignored (the protocol allows new statistics).</summary>
    /// <exception cref="DeltaLogCorruptException">Not a JSON object, or a known key with the wrong shape.</exception>
    public static DeltaFileStats Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new DeltaLogCorruptException($"file statistics are not a JSON object: {Shorten(json)}");
            long? numRecords = null;
            bool? tight = null;
            IReadOnlyDictionary<string, DeltaStatValue> min = Empty, max = Empty, nulls = Empty;
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "numRecords":
                        if (p.Value.ValueKind == JsonValueKind.Null) break;
                        if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt64(out var n) || n < 0)
                            throw new DeltaLogCorruptException($"file statistics: numRecords is not a non-negative integer: {Shorten(json)}");
                        numRecords = n;
                        break;
                    case "tightBounds":
                        if (p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False) tight = p.Value.GetBoolean();
                        break;
                    case "minValues": min = ReadObject(p.Value, json); break;
                    case "maxValues": max = ReadObject(p.Value, json); break;
                    case "nullCount": nulls = ReadObject(p.Value, json); break;
                }
            }
            return new DeltaFileStats { NumRecords = numRecords, TightBounds = tight, MinValues = min, MaxValues = max, NullCount = nulls };
        }
        catch (JsonException e)
        {
            throw new DeltaLogCorruptException($"file statistics are not valid JSON ({e.Message}): {Shorten(json)}", e);
        }
    }

    /// <summary>Writes the stats JSON string (camelCase keys per the protocol).</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, DeltaJson.WriterOptions))
        {
            w.WriteStartObject();
            if (NumRecords is { } n) w.WriteNumber("numRecords", n);
            WriteObject(w, "minValues", MinValues);
            WriteObject(w, "maxValues", MaxValues);
            WriteObject(w, "nullCount", NullCount);
            if (TightBounds is { } t) w.WriteBoolean("tightBounds", t);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static IReadOnlyDictionary<string, DeltaStatValue> ReadObject(JsonElement e, string json)
    {
        if (e.ValueKind == JsonValueKind.Null) return Empty;
        if (e.ValueKind != JsonValueKind.Object)
            throw new DeltaLogCorruptException($"file statistics: expected an object of column values: {Shorten(json)}");
        var result = new Dictionary<string, DeltaStatValue>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            var v = ReadValue(p.Value, json);
            if (v is not null) result[p.Name] = v;
        }
        return result;
    }

    private static DeltaStatValue? ReadValue(JsonElement e, string json) => e.ValueKind switch
    {
        JsonValueKind.Null => DeltaStatValue.Null,
        JsonValueKind.True => DeltaStatValue.FromBoolean(true),
        JsonValueKind.False => DeltaStatValue.FromBoolean(false),
        JsonValueKind.Number => DeltaStatValue.FromNumberText(e.GetRawText()),
        JsonValueKind.String => DeltaStatValue.FromString(e.GetString()!),
        JsonValueKind.Object => DeltaStatValue.FromStruct(ReadObject(e, json)),
        _ => null, // arrays carry no min/max in the protocol: ignore rather than guess
    };

    private static void WriteObject(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, DeltaStatValue> values)
    {
        if (values.Count == 0) return;
        w.WritePropertyName(name);
        WriteFields(w, values);
    }

    private static void WriteFields(Utf8JsonWriter w, IReadOnlyDictionary<string, DeltaStatValue> values)
    {
        w.WriteStartObject();
        foreach (var (k, v) in values)
        {
            w.WritePropertyName(k);
            switch (v.Kind)
            {
                case DeltaStatKind.Null: w.WriteNullValue(); break;
                case DeltaStatKind.Boolean: v.TryGetBoolean(out var b); w.WriteBooleanValue(b); break;
                case DeltaStatKind.Number: w.WriteRawValue(v.Text!, skipInputValidation: false); break;
                case DeltaStatKind.String: w.WriteStringValue(v.Text); break;
                case DeltaStatKind.Struct: WriteFields(w, v.Fields); break;
            }
        }
        w.WriteEndObject();
    }

    private static string Shorten(string s) => s.Length <= 200 ? s : s[..200] + "…";
}
