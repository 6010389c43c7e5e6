using System.Buffers;
using System.Text.Json;
using Google.Protobuf.Collections;
using TimeFusion.Otlp.Common.V1;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>
/// Writes OTLP values as the JSON the tables hold: attributes and resources as one object (<c>{"key": value}</c>),
/// an <see cref="AnyValue"/> as its plain JSON value (string, number, bool, array, object; bytes as base64; a
/// non-finite double as a string). One writer and buffer are reused for every value of a request.
/// </summary>
internal sealed class OtlpJson
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _writer;

    public OtlpJson() => _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });

    /// <summary>The writer (between <see cref="Begin"/> and <see cref="End"/>).</summary>
    public Utf8JsonWriter Writer => _writer;

    /// <summary>What the last <see cref="End"/> returned; valid until the next <see cref="Begin"/>.</summary>
    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    /// <summary>The attributes as a JSON object; valid until the next call.</summary>
    public ReadOnlySpan<byte> Object(RepeatedField<KeyValue> attributes)
    {
        Begin();
        WriteObject(attributes);
        return End();
    }

    /// <summary>The value as JSON; valid until the next call.</summary>
    public ReadOnlySpan<byte> Value(AnyValue value)
    {
        Begin();
        Write(value);
        return End();
    }

    /// <summary>Lets the caller write its own JSON; finish with <see cref="End"/>.</summary>
    public Utf8JsonWriter Begin()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        return _writer;
    }

    /// <summary>The JSON written since <see cref="Begin"/>; valid until the next call.</summary>
    public ReadOnlySpan<byte> End()
    {
        _writer.Flush();
        return _buffer.WrittenSpan;
    }

    /// <summary>Writes <c>{"key": value, …}</c>.</summary>
    public void WriteObject(RepeatedField<KeyValue> attributes)
    {
        _writer.WriteStartObject();
        foreach (var kv in attributes)
        {
            _writer.WritePropertyName(kv.Key);
            Write(kv.Value);
        }
        _writer.WriteEndObject();
    }

    /// <summary>Writes one value.</summary>
    public void Write(AnyValue? value)
    {
        var w = _writer;
        switch (value?.ValueCase ?? AnyValue.ValueOneofCase.None)
        {
            case AnyValue.ValueOneofCase.StringValue: w.WriteStringValue(value!.StringValue); break;
            case AnyValue.ValueOneofCase.BoolValue: w.WriteBooleanValue(value!.BoolValue); break;
            case AnyValue.ValueOneofCase.IntValue: w.WriteNumberValue(value!.IntValue); break;
            case AnyValue.ValueOneofCase.DoubleValue:
                var d = value!.DoubleValue;
                if (double.IsFinite(d)) w.WriteNumberValue(d);
                else w.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                break;
            case AnyValue.ValueOneofCase.BytesValue: w.WriteBase64StringValue(value!.BytesValue.Span); break;
            case AnyValue.ValueOneofCase.ArrayValue:
                w.WriteStartArray();
                foreach (var item in value!.ArrayValue.Values) Write(item);
                w.WriteEndArray();
                break;
            case AnyValue.ValueOneofCase.KvlistValue: WriteObject(value!.KvlistValue.Values); break;
            default: w.WriteNullValue(); break;
        }
    }
}
