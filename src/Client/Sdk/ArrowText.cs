using System.Globalization;
using Apache.Arrow;

namespace TimeFusion.Client.Sdk;

/// <summary>Renders one Arrow value as text for the command line.</summary>
public static class ArrowText
{
    /// <summary>The value at <paramref name="row"/>, or an empty string for null.</summary>
    public static string Format(IArrowArray array, int row)
    {
        if (array.IsNull(row)) return "";
        return array switch
        {
            StringArray s => s.GetString(row),
            Int64Array a => a.GetValue(row)!.Value.ToString(CultureInfo.InvariantCulture),
            Int32Array a => a.GetValue(row)!.Value.ToString(CultureInfo.InvariantCulture),
            DoubleArray a => a.GetValue(row)!.Value.ToString("R", CultureInfo.InvariantCulture),
            BooleanArray a => a.GetValue(row)!.Value ? "true" : "false",
            TimestampArray a => a.GetTimestamp(row)!.Value.ToString("yyyy-MM-dd HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture),
            Date32Array a => a.GetDateOnly(row)!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ListArray l => "{" + string.Join(",", Enumerable.Range(0, l.GetValueLength(row)).Select(i => Format(l.GetSlicedValues(row), i))) + "}",
            _ => $"<{array.Data.DataType.Name}>",
        };
    }
}
