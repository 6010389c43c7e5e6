using System.Globalization;
using System.Text;
using Apache.Arrow;

namespace TimeFusion.Query.Execution;

/// <summary>
/// The first phase of a sorted, limited statement over several grains (<c>ORDER BY timestamp DESC LIMIT n</c> with a
/// large n): every grain returned its top n sort keys (narrow: a BIGINT or BLOB each, <c>create_sort_key</c>, ordered
/// as the statement orders); the n-th smallest of them all is the cutoff. Every row of the statement's answer has a key
/// at most the cutoff, and the grains together hold about n such rows (more only where rows tie on the cutoff's key, and
/// each grain still stops at n), so the second phase — each grain streams only its rows up to the cutoff, the door
/// merges them and applies LIMIT and OFFSET as before — sorts about n wide rows in all instead of n on every grain.
/// </summary>
public static class SortKeyCutoff
{
    /// <summary>
    /// The DuckDB literal of the <paramref name="rank"/>-th smallest key (1-based) over <paramref name="keys"/> (each
    /// result's first column), or null when they hold fewer keys (then every row is in the answer and no cutoff helps).
    /// </summary>
    /// <exception cref="NotSupportedException">A key column is neither BIGINT nor BLOB.</exception>
    public static string? Find(IEnumerable<RecordBatch> keys, long rank)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        var longs = new List<long>();
        var blobs = new List<byte[]>();
        foreach (var batch in keys)
        {
            if (batch.Length == 0) continue;
            switch (batch.Column(0))
            {
                case Int64Array numbers:
                    for (var i = 0; i < numbers.Length; i++)
                        if (numbers.GetValue(i) is { } v) longs.Add(v);
                    break;
                case BinaryArray bytes:
                    for (var i = 0; i < bytes.Length; i++)
                        if (!bytes.IsNull(i)) blobs.Add(bytes.GetBytes(i).ToArray());
                    break;
                case var other:
                    throw new NotSupportedException($"a sort key of type {other.Data.DataType.Name}");
            }
        }
        if (longs.Count > 0 && blobs.Count > 0) throw new NotSupportedException("sort keys of two types");
        if (longs.Count >= rank)
        {
            var sorted = longs.ToArray();
            System.Array.Sort(sorted);
            return $"CAST({sorted[rank - 1].ToString(CultureInfo.InvariantCulture)} AS BIGINT)";
        }
        if (blobs.Count >= rank)
        {
            var sorted = blobs.ToArray();
            System.Array.Sort(sorted, static (a, b) => a.AsSpan().SequenceCompareTo(b));
            return BlobLiteral(sorted[rank - 1]);
        }
        return null;
    }

    /// <summary>Bytes a key result holds in memory (what the gateway counts against the statement's limit).</summary>
    public static long BytesOf(IEnumerable<RecordBatch> keys) => keys.Sum(b => Ingest.ArrowSize.Of(b));

    private static string BlobLiteral(byte[] key)
    {
        var text = new StringBuilder("CAST('", 12 + 4 * key.Length);
        foreach (var b in key) text.Append("\\x").Append(b.ToString("X2", CultureInfo.InvariantCulture));
        return text.Append("' AS BLOB)").ToString();
    }
}
