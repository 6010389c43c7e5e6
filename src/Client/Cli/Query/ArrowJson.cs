using System.Text.Json;
using Apache.Arrow;
using TimeFusion.Client.Sdk;

namespace TimeFusion.Client.Cli.Query;

/// <summary>Writes one Arrow value as a JSON value.</summary>
public static class ArrowJson
{
    /// <summary>Writes the value at <paramref name="row"/> of <paramref name="array"/>.</summary>
    public static void WriteValue(Utf8JsonWriter json, IArrowArray array, int row)
    {
        if (array.IsNull(row))
        {
            json.WriteNullValue();
            return;
        }
        switch (array)
        {
            case StringArray s: json.WriteStringValue(s.GetString(row)); break;
            case Int64Array a: json.WriteNumberValue(a.GetValue(row)!.Value); break;
            case Int32Array a: json.WriteNumberValue(a.GetValue(row)!.Value); break;
            case Int16Array a: json.WriteNumberValue(a.GetValue(row)!.Value); break;
            case UInt64Array a: json.WriteNumberValue(a.GetValue(row)!.Value); break;
            case DoubleArray a when double.IsFinite(a.GetValue(row)!.Value): json.WriteNumberValue(a.GetValue(row)!.Value); break;
            case FloatArray a when float.IsFinite(a.GetValue(row)!.Value): json.WriteNumberValue(a.GetValue(row)!.Value); break;
            case BooleanArray a: json.WriteBooleanValue(a.GetValue(row)!.Value); break;
            case TimestampArray a: json.WriteStringValue(a.GetTimestamp(row)!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture)); break;
            case ListArray l:
                json.WriteStartArray();
                var values = l.GetSlicedValues(row);
                for (var i = 0; i < values.Length; i++) WriteValue(json, values, i);
                json.WriteEndArray();
                break;
            default: json.WriteStringValue(ArrowText.Format(array, row)); break;
        }
    }
}
