using Apache.Arrow;

namespace TimeFusion.Ingest;

/// <summary>The bytes an Arrow batch's buffers hold (what it costs in memory and on the wire).</summary>
public static class ArrowSize
{
    /// <summary>Sum of all buffer lengths of all columns, children and dictionaries included.</summary>
    public static long Of(RecordBatch batch)
    {
        long total = 0;
        for (var i = 0; i < batch.ColumnCount; i++) total += Of(batch.Column(i).Data);
        return total;
    }

    private static long Of(ArrayData data)
    {
        long total = 0;
        if (data.Buffers is not null) foreach (var b in data.Buffers) total += b.Length;
        if (data.Children is not null) foreach (var c in data.Children) total += Of(c);
        if (data.Dictionary is not null) total += Of(data.Dictionary);
        return total;
    }
}
