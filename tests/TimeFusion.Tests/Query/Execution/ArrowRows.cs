using System.Globalization;
using System.Numerics;
using Apache.Arrow;
using TimeFusion.Query.Execution;

namespace TimeFusion.Tests.Query.Execution;

/// <summary>Arrow results as rows of comparable CLR values, and row-set comparison (the same for actual and reference).</summary>
public static class ArrowRows
{
    public static List<object?[]> ToRows(QueryBatches result)
    {
        var rows = new List<object?[]>();
        foreach (var b in result.Batches)
        {
            for (var r = 0; r < b.Length; r++)
            {
                var row = new object?[b.ColumnCount];
                for (var c = 0; c < row.Length; c++) row[c] = Value(b.Column(c), r);
                rows.Add(row);
            }
        }
        return rows;
    }

    public static object? Value(IArrowArray array, int i)
    {
        if (array.IsNull(i)) return null;
        return array switch
        {
            BooleanArray a => a.GetValue(i),
            Int8Array a => (BigInteger)a.GetValue(i)!.Value,
            Int16Array a => (BigInteger)a.GetValue(i)!.Value,
            Int32Array a => (BigInteger)a.GetValue(i)!.Value,
            Int64Array a => (BigInteger)a.GetValue(i)!.Value,
            UInt8Array a => (BigInteger)a.GetValue(i)!.Value,
            UInt16Array a => (BigInteger)a.GetValue(i)!.Value,
            UInt32Array a => (BigInteger)a.GetValue(i)!.Value,
            UInt64Array a => (BigInteger)a.GetValue(i)!.Value,
            FloatArray a => (double)a.GetValue(i)!.Value,
            DoubleArray a => a.GetValue(i)!.Value,
            Decimal128Array a => DecimalValue(a.GetString(i)!),
            StringArray a => a.GetString(i),
            BinaryArray a => Convert.ToHexString(a.GetBytes(i)),
            TimestampArray a => "ts:" + a.GetTimestamp(i)!.Value.UtcTicks.ToString(CultureInfo.InvariantCulture),
            Date32Array a => "date:" + a.GetDateOnly(i)!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ListArray a => ListValue(a.GetSlicedValues(i)),
            DictionaryArray a => Value(a.Dictionary, (int)Convert.ToInt64(Value(a.Indices, i)!.ToString(), CultureInfo.InvariantCulture)),
            StructArray a => "{" + string.Join(",", a.Fields.Select(f => Show(Value(f, i)))) + "}",
            Time64Array a => "time:" + a.GetValue(i),
            MonthDayNanosecondIntervalArray a => "interval:" + a.GetValue(i),
            FixedSizeListArray a => ListValue(a.GetSlicedValues(i)),
            _ => throw new NotSupportedException("no comparison for " + array.GetType().Name),
        };
    }

    private static object DecimalValue(string text)
    {
        if (!text.Contains('.')) return BigInteger.Parse(text, CultureInfo.InvariantCulture);
        var d = double.Parse(text, CultureInfo.InvariantCulture);
        return d == Math.Floor(d) && Math.Abs(d) < 1e15 ? new BigInteger(d) : d;
    }

    private static string ListValue(IArrowArray values) =>
        "[" + string.Join(",", Enumerable.Range(0, values.Length).Select(j => Show(Value(values, j)))) + "]";

    public static string Show(object? v) => v switch
    {
        null => "NULL",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static string SortKey(object?[] row) => string.Join("|", row.Select(v => v is double d ? d.ToString("G6", CultureInfo.InvariantCulture) : Show(v)));

    public static void AssertSameRows(List<object?[]> expected, List<object?[]> actual, bool ordered, string what, bool allowEmpty = false)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: expected {expected.Count} rows, got {actual.Count}");
        if (!allowEmpty) Assert.True(expected.Count > 0, $"{what}: the reference answer is empty, so the test proves nothing");
        var e = ordered ? expected : expected.OrderBy(SortKey, StringComparer.Ordinal).ToList();
        var a = ordered ? actual : actual.OrderBy(SortKey, StringComparer.Ordinal).ToList();
        for (var i = 0; i < e.Count; i++)
        {
            Assert.True(e[i].Length == a[i].Length, $"{what}: row {i} has {a[i].Length} columns, expected {e[i].Length}");
            for (var c = 0; c < e[i].Length; c++)
                Assert.True(ValuesEqual(e[i][c], a[i][c]), $"{what}: row {i} column {c}: expected {Show(e[i][c])}, got {Show(a[i][c])}");
        }
    }

    private static bool ValuesEqual(object? x, object? y)
    {
        if (x is null || y is null) return x is null && y is null;
        if (x is double || y is double)
        {
            var a = ToDouble(x);
            var b = ToDouble(y);
            return Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));
        }
        return Show(x) == Show(y);
    }

    private static double ToDouble(object v) => v is BigInteger b ? (double)b : Convert.ToDouble(v, CultureInfo.InvariantCulture);
}
