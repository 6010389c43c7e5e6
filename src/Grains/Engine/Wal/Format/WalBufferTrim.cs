using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Wal;

/// <summary>
/// Views of a flat column's buffers cut to what its rows use, rounded up to 8 bytes (the IPC body's alignment): the IPC
/// writer writes each buffer up to the next 64 bytes when the buffer is that long (builders allocate in 64-byte steps),
/// so a 30-row column's 4-byte validity bitmap costs 64 bytes in the WAL. Nothing is copied.
/// </summary>
internal static class WalBufferTrim
{
    /// <summary>
    /// <paramref name="array"/> with its buffers cut, when it is a flat column (fixed-width, boolean, string, binary) at
    /// offset 0 with longer buffers than needed; otherwise <paramref name="array"/> itself.
    /// </summary>
    public static IArrowArray Trim(IArrowArray array)
    {
        var data = array.Data;
        if (data.Offset != 0 || data.Children is { Length: > 0 } || data.Dictionary is not null) return array;
        var rows = data.Length;
        var buffers = data.Buffers;
        ArrowBuffer[] cut;
        switch (data.DataType)
        {
            case BooleanType when buffers.Length == 2:
                cut = [Cut(buffers[0], (rows + 7) / 8), Cut(buffers[1], (rows + 7) / 8)];
                break;
            case StringType or BinaryType when buffers.Length == 3 && buffers[1].Length >= (rows + 1) * 4:
                var end = buffers[1].Span.CastTo<int>()[rows];
                if (end < 0 || end > buffers[2].Length) return array;
                cut = [Cut(buffers[0], (rows + 7) / 8), Cut(buffers[1], (rows + 1) * 4), Cut(buffers[2], end)];
                break;
            case FixedWidthType f and not DictionaryType and not BooleanType when buffers.Length == 2 && f.BitWidth % 8 == 0:
                cut = [Cut(buffers[0], (rows + 7) / 8), Cut(buffers[1], (long)rows * (f.BitWidth / 8))];
                break;
            default:
                return array;
        }
        var changed = false;
        for (var i = 0; i < cut.Length; i++) changed |= cut[i].Length != buffers[i].Length;
        return changed ? ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, rows, data.NullCount, 0, cut)) : array;
    }

    private static ArrowBuffer Cut(ArrowBuffer buffer, long used)
    {
        var keep = (used + 7) & ~7L;
        return buffer.Length > keep ? new ArrowBuffer(buffer.Memory[..(int)keep]) : buffer;
    }
}
