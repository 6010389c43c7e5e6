using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Ingest;

/// <summary>All-null columns of a given type, for nullable columns a batch leaves out.</summary>
public static class NullColumns
{
    /// <summary>A column of <paramref name="rows"/> nulls of <paramref name="type"/>.</summary>
    public static IArrowArray Of(IArrowType type, int rows)
    {
        var validity = new ArrowBuffer.BitmapBuilder(rows).AppendRange(false, rows).Build();
        ArrowBuffer Zeros(int bytes) => new ArrowBuffer.Builder<byte>(Math.Max(bytes, 1)).AppendRange(new byte[bytes]).Build();
        return type switch
        {
            StringType or BinaryType => ArrowArrayFactory.BuildArray(new ArrayData(type, rows, rows, 0, [validity, Zeros((rows + 1) * 4), ArrowBuffer.Empty])),
            ListType l => ArrowArrayFactory.BuildArray(new ArrayData(type, rows, rows, 0, [validity, Zeros((rows + 1) * 4)],
                [new ArrayData(l.ValueDataType, 0, 0, 0, [ArrowBuffer.Empty, Zeros(4), ArrowBuffer.Empty])])),
            BooleanType => ArrowArrayFactory.BuildArray(new ArrayData(type, rows, rows, 0, [validity, Zeros((rows + 7) / 8)])),
            FixedWidthType f => ArrowArrayFactory.BuildArray(new ArrayData(type, rows, rows, 0, [validity, Zeros(rows * f.BitWidth / 8)])),
            _ => throw new NotSupportedException($"no null column for {type.Name}"),
        };
    }
}
