using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Buffer;

/// <summary>A run of consecutive rows of one source array: <paramref name="Length"/> rows from <paramref name="Row"/> of source <paramref name="Source"/>.</summary>
internal readonly record struct GatherRun(int Source, int Row, int Length);

/// <summary>
/// Builds Arrow arrays from rows picked out of several source arrays of one type (a "take" over many arrays), by runs
/// of consecutive rows so that each run is one block copy where the type allows. Apache.Arrow's C# library has no
/// take or gather kernel (23.0: only <c>ArrowArrayConcatenator</c>), hence this one, for the types
/// <see cref="TailParquetWriter.CanWrite"/> accepts: fixed-width primitives (integers, doubles, timestamps, dates),
/// booleans, strings and binaries (offsets and data), and lists of strings. Validity bitmaps are gathered with them.
/// The arrays' buffers are rented from <see cref="ArrayPool{T}"/>: an array built here is valid until <see cref="Release"/>,
/// which hands them back (the export calls it once the column chunk is written).
/// </summary>
internal sealed class ArrowGather : IDisposable
{
    private readonly List<byte[]> _rented = [];

    /// <summary>
    /// The rows <paramref name="runs"/> name, in their order, out of <paramref name="sources"/> (arrays of one Arrow type;
    /// runs index rows as the arrays show them, slices honoured). <paramref name="length"/> is the runs' total length.
    /// </summary>
    public IArrowArray Take(IReadOnlyList<IArrowArray> sources, ReadOnlySpan<GatherRun> runs, int length) =>
        ArrowArrayFactory.BuildArray(TakeData(sources, runs, length));

    /// <summary>Hands the buffers of every array taken since the last call back to the pool: those arrays must not be read again.</summary>
    public void Release()
    {
        foreach (var array in _rented)
            ArrayPool<byte>.Shared.Return(array);
        _rented.Clear();
    }

    /// <inheritdoc />
    public void Dispose() => Release();

    /// <summary>
    /// The runs of <paramref name="rows"/> (each a source index in the high 32 bits and a row in the low 32 bits) into
    /// <paramref name="runs"/> (at least as long as <paramref name="rows"/>); returns how many.
    /// </summary>
    public static int ToRuns(ReadOnlySpan<long> rows, Span<GatherRun> runs)
    {
        var count = 0;
        var i = 0;
        while (i < rows.Length)
        {
            var first = rows[i];
            var j = i + 1;
            while (j < rows.Length && rows[j] == first + (j - i))
                j++;
            runs[count++] = new GatherRun((int)(first >> 32), (int)first, j - i);
            i = j;
        }
        return count;
    }

    private ArrayData TakeData(IReadOnlyList<IArrowArray> sources, ReadOnlySpan<GatherRun> runs, int length)
    {
        var type = sources[0].Data.DataType;
        var validity = Validity(sources, runs, length, out var nulls);
        return type switch
        {
            Int32Type or Date32Type => Fixed<int>(type, sources, runs, length, validity, nulls),
            Int64Type or TimestampType => Fixed<long>(type, sources, runs, length, validity, nulls),
            DoubleType => Fixed<double>(type, sources, runs, length, validity, nulls),
            BooleanType => Booleans(sources, runs, length, validity, nulls),
            StringType or BinaryType => Binaries(type, sources, runs, length, validity, nulls),
            ListType => Lists((ListType)type, sources, runs, length, validity, nulls),
            _ => throw new NotSupportedException($"gathering Arrow {type.Name} arrays"),
        };
    }

    private ArrayData Fixed<T>(IArrowType type, IReadOnlyList<IArrowArray> sources, ReadOnlySpan<GatherRun> runs, int length, ArrowBuffer validity, int nulls)
        where T : unmanaged, IEquatable<T>
    {
        var buffer = Rent(length * Unsafe.SizeOf<T>(), out var bytes);
        var values = MemoryMarshal.Cast<byte, T>(bytes);
        var at = 0;
        foreach (var run in runs)
        {
            ((PrimitiveArray<T>)sources[run.Source]).Values.Slice(run.Row, run.Length).CopyTo(values[at..]);
            at += run.Length;
        }
        return new ArrayData(type, length, nulls, 0, [validity, buffer]);
    }

    private ArrayData Booleans(IReadOnlyList<IArrowArray> sources, ReadOnlySpan<GatherRun> runs, int length, ArrowBuffer validity, int nulls)
    {
        var buffer = RentCleared((length + 7) / 8, out var bits);
        var at = 0;
        foreach (var run in runs)
        {
            var source = (BooleanArray)sources[run.Source];
            var values = source.ValueBuffer.Span;
            var from = source.Offset + run.Row;
            for (var j = 0; j < run.Length; j++)
            {
                if (BitUtility.GetBit(values, from + j))
                    BitUtility.SetBit(bits, at + j);
            }
            at += run.Length;
        }
        return new ArrayData(BooleanType.Default, length, nulls, 0, [validity, buffer]);
    }

    private ArrayData Binaries(IArrowType type, IReadOnlyList<IArrowArray> sources, ReadOnlySpan<GatherRun> runs, int length, ArrowBuffer validity, int nulls)
    {
        long total = 0;
        foreach (var run in runs)
        {
            var offsets = ((BinaryArray)sources[run.Source]).ValueOffsets;
            total += offsets[run.Row + run.Length] - offsets[run.Row];
        }
        if (total > int.MaxValue)
            throw new NotSupportedException($"gathering {total} bytes of {type.Name} values into one array (more than Arrow's 32-bit offsets hold)");
        var offsetBuffer = Rent((length + 1) * sizeof(int), out var offsetBytes);
        var dataBuffer = Rent((int)total, out var data);
        var outOffsets = MemoryMarshal.Cast<byte, int>(offsetBytes);
        outOffsets[0] = 0;
        var at = 0;
        var position = 0;
        foreach (var run in runs)
        {
            var source = (BinaryArray)sources[run.Source];
            var offsets = source.ValueOffsets;
            var start = offsets[run.Row];
            var end = offsets[run.Row + run.Length];
            source.ValueBuffer.Span[start..end].CopyTo(data[position..]);
            var shift = position - start;
            for (var j = 1; j <= run.Length; j++)
                outOffsets[at + j] = offsets[run.Row + j] + shift;
            at += run.Length;
            position += end - start;
        }
        return new ArrayData(type, length, nulls, 0, [validity, offsetBuffer, dataBuffer]);
    }

    private ArrayData Lists(ListType type, IReadOnlyList<IArrowArray> sources, ReadOnlySpan<GatherRun> runs, int length, ArrowBuffer validity, int nulls)
    {
        // A run of lists is a run of their elements in the child array: the child is gathered by those runs.
        var offsetBuffer = Rent((length + 1) * sizeof(int), out var offsetBytes);
        var outOffsets = MemoryMarshal.Cast<byte, int>(offsetBytes);
        var childRuns = ArrayPool<GatherRun>.Shared.Rent(Math.Max(1, runs.Length));
        try
        {
            var children = new IArrowArray[sources.Count];
            for (var s = 0; s < sources.Count; s++)
                children[s] = ((ListArray)sources[s]).Values;
            outOffsets[0] = 0;
            var at = 0;
            var position = 0;
            var count = 0;
            foreach (var run in runs)
            {
                var offsets = ((ListArray)sources[run.Source]).ValueOffsets;
                var start = offsets[run.Row];
                var end = offsets[run.Row + run.Length];
                if (end > start)
                    childRuns[count++] = new GatherRun(run.Source, start, end - start);
                var shift = position - start;
                for (var j = 1; j <= run.Length; j++)
                    outOffsets[at + j] = offsets[run.Row + j] + shift;
                at += run.Length;
                position = checked(position + (end - start));
            }
            var child = count == 0
                ? ArrowArrayFactory.Slice(children[0], 0, 0).Data
                : TakeData(children, childRuns.AsSpan(0, count), position);
            return new ArrayData(type, length, nulls, 0, [validity, offsetBuffer], [child]);
        }
        finally
        {
            ArrayPool<GatherRun>.Shared.Return(childRuns);
        }
    }

    /// <summary>The validity bitmap of the gathered rows; an empty buffer when none is null.</summary>
    private ArrowBuffer Validity(IReadOnlyList<IArrowArray> sources, ReadOnlySpan<GatherRun> runs, int length, out int nulls)
    {
        nulls = 0;
        var anyNulls = false;
        foreach (var run in runs)
        {
            if (sources[run.Source].NullCount > 0)
            {
                anyNulls = true;
                break;
            }
        }
        if (!anyNulls)
            return ArrowBuffer.Empty;
        var buffer = RentCleared((length + 7) / 8, out var bits);
        var at = 0;
        var valid = 0;
        foreach (var run in runs)
        {
            var source = sources[run.Source];
            if (source.NullCount == 0)
            {
                SetAll(bits, at, run.Length);
                valid += run.Length;
            }
            else if (source.NullCount < source.Length)
            {
                var bitmap = source.Data.Buffers[0].Span;
                var from = source.Offset + run.Row;
                for (var j = 0; j < run.Length; j++)
                {
                    if (BitUtility.GetBit(bitmap, from + j))
                    {
                        BitUtility.SetBit(bits, at + j);
                        valid++;
                    }
                }
            }
            at += run.Length;
        }
        nulls = length - valid;
        return buffer;
    }

    /// <summary>Sets bits <paramref name="from"/> … from+count-1 (whole bytes at once).</summary>
    private static void SetAll(Span<byte> bits, int from, int count)
    {
        var end = from + count;
        while (from < end && (from & 7) != 0)
            BitUtility.SetBit(bits, from++);
        var wholeBytes = (end - from) >> 3;
        bits.Slice(from >> 3, wholeBytes).Fill(0xFF);
        from += wholeBytes << 3;
        while (from < end)
            BitUtility.SetBit(bits, from++);
    }

    private ArrowBuffer Rent(int length, out Span<byte> bytes)
    {
        if (length == 0)
        {
            bytes = [];
            return ArrowBuffer.Empty;
        }
        var array = ArrayPool<byte>.Shared.Rent(length);
        _rented.Add(array);
        bytes = array.AsSpan(0, length);
        return new ArrowBuffer(new ReadOnlyMemory<byte>(array, 0, length));
    }

    private ArrowBuffer RentCleared(int length, out Span<byte> bytes)
    {
        var buffer = Rent(length, out bytes);
        bytes.Clear();
        return buffer;
    }
}
