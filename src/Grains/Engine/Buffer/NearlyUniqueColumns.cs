using System.Numerics;
using Apache.Arrow;

namespace TimeFusion.Buffer;

/// <summary>
/// Which columns of an export are (nearly) all distinct values, judged from a sample of their first values: ids, trace
/// ids, message bodies, timestamps. Parquet's dictionary encoding gains nothing on them (the dictionary fills up and
/// the writer falls back to plain pages) yet hashes every value until it does; a bench-shaped otel export wrote
/// 10–25 % faster and smaller with the dictionary off for those columns (docs/BENCHMARKS.md, session 12).
/// </summary>
internal static class NearlyUniqueColumns
{
    /// <summary>Values sampled per column (from the first batches).</summary>
    internal const int SampleSize = 1024;

    /// <summary>Fewer non-null values than this in the sample tell nothing: the dictionary stays on.</summary>
    internal const int MinSample = 256;

    /// <summary>
    /// Whether at least 90 % of the first <see cref="SampleSize"/> non-null values of column <paramref name="column"/>
    /// differ (strings and binaries by their bytes, numbers by value). Other types (booleans, lists) never are.
    /// </summary>
    public static bool Test(IReadOnlyList<RecordBatch> batches, int column)
    {
        var seen = new HashSet<long>();
        var sampled = 0;
        foreach (var batch in batches)
        {
            var array = batch.Column(column);
            sampled = array switch
            {
                BinaryArray a => AddBinary(a, seen, sampled), // strings too (StringArray is one)
                Int64Array a => AddValues(a.Values, a, seen, sampled),
                TimestampArray a => AddValues(a.Values, a, seen, sampled),
                Int32Array a => AddValues(a.Values, a, seen, sampled),
                DoubleArray a => AddValues(a.Values, a, seen, sampled),
                _ => -1,
            };
            if (sampled < 0)
                return false;
            if (sampled >= SampleSize)
                break;
        }
        return sampled >= MinSample && seen.Count * 10 >= sampled * 9;
    }

    private static int AddBinary(BinaryArray array, HashSet<long> seen, int sampled)
    {
        var offsets = array.ValueOffsets;
        var data = array.ValueBuffer.Span;
        var nulls = array.NullCount > 0;
        for (var i = 0; i < array.Length && sampled < SampleSize; i++)
        {
            if (nulls && array.IsNull(i))
                continue;
            // A hash stands for the bytes: a rare collision among 1,024 values only counts one value fewer.
            var hash = new HashCode();
            hash.AddBytes(data[offsets[i]..offsets[i + 1]]);
            seen.Add(hash.ToHashCode());
            sampled++;
        }
        return sampled;
    }

    private static int AddValues<T>(ReadOnlySpan<T> values, IArrowArray array, HashSet<long> seen, int sampled)
        where T : struct, INumberBase<T>
    {
        var nulls = array.NullCount > 0;
        for (var i = 0; i < values.Length && sampled < SampleSize; i++)
        {
            if (nulls && array.IsNull(i))
                continue;
            seen.Add(typeof(T) == typeof(double) ? BitConverter.DoubleToInt64Bits(double.CreateTruncating(values[i])) : long.CreateTruncating(values[i]));
            sampled++;
        }
        return sampled;
    }
}
