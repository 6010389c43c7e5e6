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
/// which hands them back (the export calls it once the column chunk is written) — or, made with <c>pinned</c>, owned by
/// the arrays (the tail's gathering of small chunks).
/// </summary>
internal sealed class ArrowGather : IDisposable
{
    private readonly List<byte[]> _rented = [];
    private readonly bool _pinned;

    /// <summary>A gather whose arrays' buffers are rented (valid until <see cref="Release"/>).</summary>
    public ArrowGather()
    {
    }

    /// <summary>
    /// With <paramref name="pinned"/>, a gather whose arrays own their buffers instead, allocated on the pinned object
    /// heap and never handed back (<see cref="Release"/> does nothing to them): for arrays kept after the gather that
    /// native code reads in place (the buffer's tail, scanned by DuckDB).
    /// </summary>
    public ArrowGather(bool pinned) => _pinned = pinned;

    /// <summary>Whether <see cref="Take"/> gathers arrays of <paramref name="type"/> (else it throws <see cref="NotSupportedException"/>).</summary>
    public static bool CanTake(IArrowType type) => type switch
    {
        Int32Type or Date32Type or Int64Type or TimestampType or DoubleType or BooleanType or StringType or BinaryType => true,
        ListType list => CanTake(list.ValueDataType) && list.ValueDataType is not ListType,
        _ => false,
    };

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

    /// <summary>
    /// A source array's buffers, taken out of its <see cref="ArrayData"/> once per gather: runs are often a row or two
    /// long (writers' batches interleaving by timestamp), and going through the array's accessors for each run (casts,
    /// buffer spans re-sliced) cost more than the copy.
    /// </summary>
    private struct Source
    {
        public ReadOnlyMemory<byte> Bitmap; // validity bits from bit BitOffset; empty when no row is null
        public int BitOffset;
        public int NullCount;
        public int Length;
        public ReadOnlyMemory<byte> Values; // fixed width: from row 0; booleans: bits from BitOffset; binaries: the data
        public ReadOnlyMemory<byte> Offsets; // binaries and lists: Length + 1 offsets from row 0
    }

    private ArrayData TakeData(IReadOnlyList<IArrowArray> arrays, ReadOnlySpan<GatherRun> runs, int length)
    {
        var type = arrays[0].Data.DataType;
        var width = type switch
        {
            Int32Type or Date32Type => sizeof(int),
            Int64Type or TimestampType or DoubleType => sizeof(long),
            BooleanType or StringType or BinaryType or ListType => 0,
            _ => throw new NotSupportedException($"gathering Arrow {type.Name} arrays"),
        };
        var sources = ArrayPool<Source>.Shared.Rent(arrays.Count);
        try
        {
            for (var i = 0; i < arrays.Count; i++)
            {
                var data = arrays[i].Data;
                var nulls = data.GetNullCount();
                ref var source = ref sources[i];
                source.Length = data.Length;
                source.NullCount = nulls;
                source.BitOffset = data.Offset;
                source.Bitmap = nulls > 0 ? data.Buffers[0].Memory : default;
                source.Offsets = type is StringType or BinaryType or ListType ? data.Buffers[1].Memory.Slice(data.Offset * sizeof(int), (data.Length + 1) * sizeof(int)) : default;
                source.Values = type switch
                {
                    StringType or BinaryType => data.Buffers[2].Memory,
                    BooleanType => data.Buffers[1].Memory,
                    ListType => default,
                    _ => data.Buffers[1].Memory.Slice(data.Offset * width, data.Length * width),
                };
            }
            var used = sources.AsSpan(0, arrays.Count);
            var validity = Validity(used, runs, length, out var nullCount);
            return type switch
            {
                Int32Type or Date32Type => Fixed<int>(type, used, runs, length, validity, nullCount),
                Int64Type or TimestampType or DoubleType => Fixed<long>(type, used, runs, length, validity, nullCount),
                BooleanType => Booleans(used, runs, length, validity, nullCount),
                StringType or BinaryType => Binaries(type, used, runs, length, validity, nullCount),
                _ => Lists((ListType)type, arrays, used, runs, length, validity, nullCount),
            };
        }
        finally
        {
            ArrayPool<Source>.Shared.Return(sources, clearArray: true);
        }
    }

    private ArrayData Fixed<T>(IArrowType type, ReadOnlySpan<Source> sources, ReadOnlySpan<GatherRun> runs, int length, ArrowBuffer validity, int nulls)
        where T : unmanaged
    {
        var buffer = Rent(length * Unsafe.SizeOf<T>(), out var bytes);
        var values = MemoryMarshal.Cast<byte, T>(bytes);
        var at = 0;
        foreach (var run in runs)
        {
            var from = MemoryMarshal.Cast<byte, T>(sources[run.Source].Values.Span);
            if (run.Length == 1)
                values[at] = from[run.Row];
            else
                from.Slice(run.Row, run.Length).CopyTo(values[at..]);
            at += run.Length;
        }
        return new ArrayData(type, length, nulls, 0, [validity, buffer]);
    }

    private ArrayData Booleans(ReadOnlySpan<Source> sources, ReadOnlySpan<GatherRun> runs, int length, ArrowBuffer validity, int nulls)
    {
        var buffer = RentCleared((length + 7) / 8, out var bits);
        var at = 0;
        foreach (var run in runs)
        {
            ref readonly var source = ref sources[run.Source];
            var values = source.Values.Span;
            var from = source.BitOffset + run.Row;
            for (var j = 0; j < run.Length; j++)
            {
                if (BitUtility.GetBit(values, from + j))
                    BitUtility.SetBit(bits, at + j);
            }
            at += run.Length;
        }
        return new ArrayData(BooleanType.Default, length, nulls, 0, [validity, buffer]);
    }

    private ArrayData Binaries(IArrowType type, ReadOnlySpan<Source> sources, ReadOnlySpan<GatherRun> runs, int length, ArrowBuffer validity, int nulls)
    {
        long total = 0;
        foreach (var run in runs)
        {
            var offsets = MemoryMarshal.Cast<byte, int>(sources[run.Source].Offsets.Span);
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
            ref readonly var source = ref sources[run.Source];
            var offsets = MemoryMarshal.Cast<byte, int>(source.Offsets.Span);
            var start = offsets[run.Row];
            var end = offsets[run.Row + run.Length];
            source.Values.Span[start..end].CopyTo(data[position..]);
            var shift = position - start;
            for (var j = 1; j <= run.Length; j++)
                outOffsets[at + j] = offsets[run.Row + j] + shift;
            at += run.Length;
            position += end - start;
        }
        return new ArrayData(type, length, nulls, 0, [validity, offsetBuffer, dataBuffer]);
    }

    private ArrayData Lists(ListType type, IReadOnlyList<IArrowArray> arrays, ReadOnlySpan<Source> sources, ReadOnlySpan<GatherRun> runs, int length, ArrowBuffer validity, int nulls)
    {
        // A run of lists is a run of their elements in the child array: the child is gathered by those runs.
        var offsetBuffer = Rent((length + 1) * sizeof(int), out var offsetBytes);
        var outOffsets = MemoryMarshal.Cast<byte, int>(offsetBytes);
        var childRuns = ArrayPool<GatherRun>.Shared.Rent(Math.Max(1, runs.Length));
        try
        {
            var children = new IArrowArray[arrays.Count];
            for (var s = 0; s < arrays.Count; s++)
                children[s] = ArrowArrayFactory.BuildArray(arrays[s].Data.Children[0]);
            outOffsets[0] = 0;
            var at = 0;
            var position = 0;
            var count = 0;
            foreach (var run in runs)
            {
                var offsets = MemoryMarshal.Cast<byte, int>(sources[run.Source].Offsets.Span);
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
    private ArrowBuffer Validity(ReadOnlySpan<Source> sources, ReadOnlySpan<GatherRun> runs, int length, out int nulls)
    {
        nulls = 0;
        var anyNulls = false;
        foreach (ref readonly var source in sources)
        {
            if (source.NullCount > 0)
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
            ref readonly var source = ref sources[run.Source];
            if (source.NullCount == 0)
            {
                SetAll(bits, at, run.Length);
                valid += run.Length;
            }
            else if (source.NullCount < source.Length)
            {
                var bitmap = source.Bitmap.Span;
                var from = source.BitOffset + run.Row;
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
        // The rows taken may all come from sources without nulls.
        return nulls == 0 ? ArrowBuffer.Empty : buffer;
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
        byte[] array;
        if (_pinned)
        {
            array = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        }
        else
        {
            array = ArrayPool<byte>.Shared.Rent(length);
            _rented.Add(array);
        }
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
