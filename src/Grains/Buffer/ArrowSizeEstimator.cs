using Apache.Arrow;

namespace TimeFusion.Buffer;

/// <summary>Bytes of Arrow buffers behind a batch: the basis of the memory estimate taken before an append.</summary>
public static class ArrowSizeEstimator
{
    /// <summary>
    /// Sum of the lengths of every buffer the batch's columns reference (children and dictionaries included).
    /// For a slice of a larger batch this counts the whole shared buffers, so it errs high.
    /// </summary>
    public static long BufferBytes(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long total = 0;
        for (var i = 0; i < batch.ColumnCount; i++)
            total += BufferBytes(batch.Column(i).Data);
        return total;
    }

    private static long BufferBytes(ArrayData data)
    {
        long total = 0;
        foreach (var buffer in data.Buffers)
            total += buffer.Length;
        if (data.Children is not null)
        {
            foreach (var child in data.Children)
                total += BufferBytes(child);
        }
        if (data.Dictionary is not null)
            total += BufferBytes(data.Dictionary);
        return total;
    }
}
