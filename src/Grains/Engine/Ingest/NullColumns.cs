using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Ingest;

/// <summary>All-null columns of a given type, for nullable columns a batch leaves out.</summary>
/// <remarks>
/// Every buffer of an all-null column is zeros (validity: all null; offsets: all 0; values: unused), and Arrow buffers
/// are never written, so the columns share one managed block of zeros. A small batch into a wide table (a 30-row INSERT
/// into the ~90-column otel table) used to allocate a few hundred native buffers for its missing columns, each freed by
/// a finalizer with <c>GC.RemoveMemoryPressure</c> — about a third of the silo's CPU on that path (docs/BENCHMARKS.md).
/// </remarks>
public static class NullColumns
{
    // 256 KiB covers every buffer of a 32 K-row column; larger ones get their own (managed) zeros.
    // Pinned: DuckDB's scan of the buffer's tail reads fixed-width columns in place.
    private static readonly byte[] SharedArray = GC.AllocateArray<byte>(256 * 1024, pinned: true);
    private static readonly ReadOnlyMemory<byte> SharedZeros = SharedArray;

    /// <summary>
    /// Up to this many rows, every buffer of a column <see cref="Of"/> builds (of at most 128-bit values) lies in the shared
    /// pinned block, which native code may read in place.
    /// </summary>
    internal const int PinnedRows = 256 * 1024 / 16 - 1;

    /// <summary>A column of <paramref name="rows"/> nulls of <paramref name="type"/>.</summary>
    public static IArrowArray Of(IArrowType type, int rows)
    {
        var validity = Zeros((rows + 7) / 8);
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

    /// <summary>
    /// Whether <see cref="Of"/> builds columns of <paramref name="type"/> (a list only of strings or binaries: its child
    /// is built with their layout).
    /// </summary>
    public static bool Supports(IArrowType type) => type switch
    {
        DictionaryType or MapType or NullType => false,
        StringType or BinaryType or BooleanType => true,
        ListType l => l.ValueDataType is StringType or BinaryType,
        FixedWidthType => true,
        _ => false,
    };

    /// <summary>Whether <paramref name="memory"/> is part of the shared block of zeros (immutable: never needs copying).</summary>
    internal static bool IsSharedZeros(ReadOnlyMemory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(memory, out var segment) && ReferenceEquals(segment.Array, SharedArray);

    private static ArrowBuffer Zeros(int bytes)
    {
        bytes = Math.Max(bytes, 1);
        return new ArrowBuffer(bytes <= SharedZeros.Length ? SharedZeros[..bytes] : new byte[bytes]);
    }
}
