using System.Text.Json;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping.Wire;

/// <summary>The kind of an <c>AnyValue</c> as the flattened columns see it (only scalars fill them).</summary>
internal enum ScalarKind : byte
{
    /// <summary>No value, or one no flattened column takes (array, key-value list, bytes).</summary>
    None,
    String,
    Int,
    Bool,
    Double,
}

/// <summary>A scalar <c>AnyValue</c> read from the wire (the string as UTF-8 bytes of the request).</summary>
internal ref struct Scalar
{
    public ScalarKind Kind;
    public ReadOnlySpan<byte> Utf8;
    public long Int;
    public double Double;
    public bool Bool;
}

/// <summary>
/// <c>KeyValue</c> and <c>AnyValue</c> straight from the wire into the tables' JSON (the same JSON
/// <see cref="OtlpJson"/> writes from the generated messages: <c>{"key": value}</c>, bytes as base64, a non-finite double
/// as a string) and into the flattened columns, without materializing a message or a string.
/// </summary>
internal static class WireValues
{
    /// <summary>
    /// Writes the <c>KeyValue</c> the reader just entered (ending at <paramref name="end"/>) as one JSON property; when
    /// <paramref name="flat"/> is given, a scalar value also fills its flattened column of <paramref name="target"/>.
    /// </summary>
    public static void KeyValue<T>(OtlpWireReader r, Utf8JsonWriter w, int end, ref int depth, FlattenedColumns? flat, T target)
        where T : IFlatTarget
    {
        ReadOnlySpan<byte> key = default;
        var hasValue = false;
        var scalar = default(Scalar);
        while (r.More(end))
        {
            switch (r.ReadTag())
            {
                case 10: // key
                    if (hasValue) throw new WireFallbackException("key after value");
                    key = r.Utf8();
                    break;
                case 18: // value (a second one would be merged into the first: left to the generated decoder)
                    if (hasValue) throw new WireFallbackException("value twice");
                    hasValue = true;
                    w.WritePropertyName(key);
                    var valueEnd = r.Enter(ref depth);
                    scalar = AnyValue(r, w, valueEnd, ref depth);
                    r.Leave(valueEnd, ref depth);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }
        if (!hasValue)
        {
            w.WritePropertyName(key);
            w.WriteNullValue();
        }
        else if (flat is not null && scalar.Kind != ScalarKind.None)
        {
            flat.Fill(target, key, scalar);
        }
    }

    /// <summary>Writes the <c>AnyValue</c> the reader just entered as its JSON value; returns it when it is a scalar.</summary>
    public static Scalar AnyValue(OtlpWireReader r, Utf8JsonWriter w, int end, scoped ref int depth)
    {
        var value = default(Scalar);
        var set = false;
        while (r.More(end))
        {
            var tag = r.ReadTag();
            if (tag is 10 or 16 or 24 or 33 or 42 or 50 or 58 or 64)
            {
                if (set) throw new WireFallbackException("oneof twice"); // the last would win: left to the generated decoder
                set = true;
            }
            switch (tag)
            {
                case 10: // string_value
                    value.Kind = ScalarKind.String;
                    value.Utf8 = r.Utf8();
                    w.WriteStringValue(value.Utf8);
                    break;
                case 16: // bool_value
                    value.Kind = ScalarKind.Bool;
                    value.Bool = r.Bool();
                    w.WriteBooleanValue(value.Bool);
                    break;
                case 24: // int_value
                    value.Kind = ScalarKind.Int;
                    value.Int = r.Int64();
                    w.WriteNumberValue(value.Int);
                    break;
                case 33: // double_value
                    value.Kind = ScalarKind.Double;
                    var d = value.Double = r.Double();
                    if (double.IsFinite(d)) w.WriteNumberValue(d);
                    else w.WriteStringValue(double.IsNaN(d) ? "NaN"u8 : d > 0 ? "Infinity"u8 : "-Infinity"u8);
                    break;
                case 42: // array_value
                    var arrayEnd = r.Enter(ref depth);
                    w.WriteStartArray();
                    while (r.More(arrayEnd))
                    {
                        if (r.ReadTag() != 10)
                        {
                            r.Skip();
                            continue;
                        }
                        var itemEnd = r.Enter(ref depth);
                        AnyValue(r, w, itemEnd, ref depth);
                        r.Leave(itemEnd, ref depth);
                    }
                    w.WriteEndArray();
                    r.Leave(arrayEnd, ref depth);
                    break;
                case 50: // kvlist_value
                    var listEnd = r.Enter(ref depth);
                    w.WriteStartObject();
                    while (r.More(listEnd))
                    {
                        if (r.ReadTag() != 10)
                        {
                            r.Skip();
                            continue;
                        }
                        var kvEnd = r.Enter(ref depth);
                        KeyValue<NoTarget>(r, w, kvEnd, ref depth, null, default);
                        r.Leave(kvEnd, ref depth);
                    }
                    w.WriteEndObject();
                    r.Leave(listEnd, ref depth);
                    break;
                case 58: // bytes_value
                    w.WriteBase64StringValue(r.Bytes());
                    break;
                case 64: // string_value_strindex (profiles only): no value the tables hold
                    r.Int32();
                    w.WriteNullValue();
                    break;
                default:
                    r.Skip();
                    break;
            }
        }
        if (!set) w.WriteNullValue();
        return value;
    }

    /// <summary>The target of nested key-value lists, which fill no flattened column.</summary>
    private struct NoTarget : IFlatTarget
    {
        public readonly void Utf8(int column, ReadOnlySpan<byte> value) { }

        public readonly void Int32(int column, int value) { }

        public readonly void Int64(int column, long value) { }
    }
}
