using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Buffer;

/// <summary>Bytes of Arrow data behind a batch: the basis of the memory estimate taken before an append.</summary>
public static class ArrowSizeEstimator
{
    /// <summary>
    /// The bytes the batch's rows occupy in Arrow form: values, offsets and validity of the rows in the batch
    /// (not the spare capacity builders leave in buffers, and for slices only the sliced rows), dictionaries whole.
    /// Never more than the buffers hold.
    /// </summary>
    public static long DataBytes(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long total = 0;
        for (var i = 0; i < batch.ColumnCount; i++)
            total += DataBytes(batch.Column(i).Data);
        return total;
    }

    /// <summary>Sum of the lengths of every buffer the batch's columns reference (children and dictionaries included).</summary>
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

    private static long DataBytes(ArrayData data)
    {
        long rows = data.Length;
        long validity = data.NullCount > 0 ? (rows + 7) / 8 : 0;
        switch (data.DataType)
        {
            case StringType or BinaryType when data.Buffers.Length >= 3:
                return validity + (rows + 1) * 4 + Span(data, 4, data.Buffers[2].Length);
            case LargeStringType when data.Buffers.Length >= 3:
                return validity + (rows + 1) * 8 + Span(data, 8, data.Buffers[2].Length);
            case ListType when data.Children is { Length: 1 }:
                return validity + (rows + 1) * 4 + ChildShare(data);
            case DictionaryType when data.Dictionary is not null:
                return validity + rows * (((FixedWidthType)((DictionaryType)data.DataType).IndexType).BitWidth / 8) + DataBytes(data.Dictionary);
            case BooleanType:
                return validity + (rows + 7) / 8;
            case FixedWidthType fixedWidth:
                return validity + rows * fixedWidth.BitWidth / 8;
            default:
                return BufferBytes(data);
        }
    }

    /// <summary>Bytes between the first and last offset of the rows, bounded by the data buffer.</summary>
    private static long Span(ArrayData data, int width, long dataLength)
    {
        var offsets = data.Buffers[1].Span;
        var first = (long)data.Offset * width;
        var last = ((long)data.Offset + data.Length) * width;
        if (data.Length == 0 || last + width > offsets.Length)
            return dataLength;
        long start = width == 4 ? BinaryPrimitives.ReadInt32LittleEndian(offsets[(int)first..]) : BinaryPrimitives.ReadInt64LittleEndian(offsets[(int)first..]);
        long end = width == 4 ? BinaryPrimitives.ReadInt32LittleEndian(offsets[(int)last..]) : BinaryPrimitives.ReadInt64LittleEndian(offsets[(int)last..]);
        return Math.Clamp(end - start, 0, dataLength);
    }

    /// <summary>The part of a list's child that the list's rows cover, in proportion to the child's elements.</summary>
    private static long ChildShare(ArrayData data)
    {
        var child = data.Children[0];
        var offsets = data.Buffers[1].Span;
        var last = ((long)data.Offset + data.Length) * 4;
        if (child.Length == 0 || data.Length == 0 || last + 4 > offsets.Length)
            return DataBytes(child);
        long start = BinaryPrimitives.ReadInt32LittleEndian(offsets[(data.Offset * 4)..]);
        long end = BinaryPrimitives.ReadInt32LittleEndian(offsets[(int)last..]);
        var elements = Math.Clamp(end - start, 0, child.Length);
        return elements == child.Length ? DataBytes(child) : DataBytes(child) * elements / child.Length;
    }
}
