using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Arrow;

/// <summary>
/// Checks that an Arrow batch is safe to hand to code that trusts its buffers (DuckDB's Arrow import, Parquet
/// writers, our own span code). Apache.Arrow's IPC reader does not fully validate buffers, so a hostile stream can
/// describe arrays whose offsets point past their data. For every array, recursively: buffers are long enough for
/// offset + length, validity bitmaps match null counts, offsets are non-negative, monotonic and inside the data
/// (or child), views and dictionary indices point inside their targets, children are long enough, strings are
/// UTF-8. Unsupported types (run-end encoded, extension) are rejected. Reads nothing out of bounds and allocates
/// nothing in proportion to declared lengths.
/// </summary>
public static class ArrowStructureValidator
{
    /// <summary>Nesting deeper than this is rejected (it only appears in hostile input).</summary>
    public const int MaxNestingDepth = ArrowIpcPreflight.MaxNestingDepth;

    /// <summary>Validates every column of <paramref name="batch"/> against its schema and length.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="validateUtf8">Whether string values must be valid UTF-8 (DuckDB checks them itself while appending; this names the column).</param>
    /// <exception cref="ArrowValidationException">The first inconsistency found.</exception>
    public static void Validate(RecordBatch batch, bool validateUtf8 = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var fields = batch.Schema.FieldsList;
        if (batch.Length < 0) throw Fail("batch", $"negative length {batch.Length}");
        if (batch.ColumnCount != fields.Count) throw Fail("batch", $"{batch.ColumnCount} columns for {fields.Count} schema fields");
        for (var i = 0; i < fields.Count; i++)
        {
            var path = $"column '{fields[i].Name}'";
            var data = batch.Column(i).Data;
            if (!SameLayout(data.DataType, fields[i].DataType, 1))
                throw Fail(path, $"array type {data.DataType.TypeId} does not match schema type {fields[i].DataType.TypeId}");
            if (data.Length != batch.Length) throw Fail(path, $"length {data.Length} differs from the batch length {batch.Length}");
            Check(data, path, 1, validateUtf8);
        }
    }

    /// <summary>Validates one array and everything under it.</summary>
    /// <exception cref="ArrowValidationException">The first inconsistency found.</exception>
    public static void Validate(IArrowArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        Check(array.Data, "array", 1, utf8: true);
    }

    private static void Check(ArrayData d, string path, int depth, bool utf8)
    {
        if (depth > MaxNestingDepth) throw Fail(path, $"nesting deeper than {MaxNestingDepth}");
        if (d.Length < 0 || d.Offset < 0) throw Fail(path, $"negative length {d.Length} or offset {d.Offset}");
        if ((long)d.Offset + d.Length > int.MaxValue) throw Fail(path, "offset + length overflows");
        if (d.NullCount < -1 || d.NullCount > d.Length) throw Fail(path, $"null count {d.NullCount} outside [0, {d.Length}]");
        var type = d.DataType;
        switch (type.TypeId)
        {
            case ArrowTypeId.Null:
                return;
            case ArrowTypeId.Boolean:
                Validity(d, path);
                NeedBytes(d, 1, path, "values", BitBytes(End(d)));
                return;
            case ArrowTypeId.UInt8 or ArrowTypeId.Int8 or ArrowTypeId.UInt16 or ArrowTypeId.Int16 or ArrowTypeId.UInt32 or ArrowTypeId.Int32
                or ArrowTypeId.UInt64 or ArrowTypeId.Int64 or ArrowTypeId.HalfFloat or ArrowTypeId.Float or ArrowTypeId.Double
                or ArrowTypeId.Date32 or ArrowTypeId.Date64 or ArrowTypeId.Time32 or ArrowTypeId.Time64 or ArrowTypeId.Timestamp
                or ArrowTypeId.Duration or ArrowTypeId.Interval or ArrowTypeId.Decimal32 or ArrowTypeId.Decimal64
                or ArrowTypeId.Decimal128 or ArrowTypeId.Decimal256 or ArrowTypeId.FixedSizedBinary:
                Validity(d, path);
                NeedBytes(d, 1, path, "values", End(d) * FixedWidth(type, path));
                return;
            case ArrowTypeId.String or ArrowTypeId.Binary:
                Validity(d, path);
                VariableWidth(d, path, large: false, utf8: utf8 && type.TypeId == ArrowTypeId.String);
                return;
            case ArrowTypeId.LargeString or ArrowTypeId.LargeBinary:
                Validity(d, path);
                VariableWidth(d, path, large: true, utf8: utf8 && type.TypeId == ArrowTypeId.LargeString);
                return;
            case ArrowTypeId.StringView or ArrowTypeId.BinaryView:
                Validity(d, path);
                Views(d, path, utf8: utf8 && type.TypeId == ArrowTypeId.StringView);
                return;
            case ArrowTypeId.List or ArrowTypeId.Map:
                Validity(d, path);
                ListLike(d, path, depth, large: false, utf8);
                if (type.TypeId == ArrowTypeId.Map) MapEntries(d, path);
                return;
            case ArrowTypeId.LargeList:
                Validity(d, path);
                ListLike(d, path, depth, large: true, utf8);
                return;
            case ArrowTypeId.ListView or ArrowTypeId.LargeListView:
                Validity(d, path);
                ListViews(d, path, depth, large: type.TypeId == ArrowTypeId.LargeListView, utf8);
                return;
            case ArrowTypeId.FixedSizeList:
                Validity(d, path);
                FixedSizeList(d, (FixedSizeListType)type, path, depth, utf8);
                return;
            case ArrowTypeId.Struct:
                Validity(d, path);
                Struct(d, (StructType)type, path, depth, utf8);
                return;
            case ArrowTypeId.Dictionary:
                Validity(d, path);
                Dictionary(d, (DictionaryType)type, path, depth, utf8);
                return;
            case ArrowTypeId.Union:
                Union(d, (UnionType)type, path, depth, utf8);
                return;
            default:
                throw Fail(path, $"Arrow type {type.TypeId} is not supported");
        }
    }

    /// <summary>
    /// Whether two types lay out buffers the same way (type ids, widths, child types; names may differ): whoever reads
    /// the batch by its schema — DuckDB's conversion does — then reads the buffers this validator checked.
    /// </summary>
    private static bool SameLayout(IArrowType a, IArrowType b, int depth)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a.TypeId != b.TypeId || depth > MaxNestingDepth) return false;
        switch (a)
        {
            case FixedSizeBinaryType fa when b is FixedSizeBinaryType fb:
                return fa.ByteWidth == fb.ByteWidth;
            case FixedSizeListType la when b is FixedSizeListType lb:
                if (la.ListSize != lb.ListSize) return false;
                break;
            case DictionaryType da when b is DictionaryType db:
                return SameLayout(da.IndexType, db.IndexType, depth + 1) && SameLayout(da.ValueType, db.ValueType, depth + 1);
            case UnionType ua when b is UnionType ub:
                if (ua.Mode != ub.Mode || !ua.TypeIds.AsSpan().SequenceEqual(ub.TypeIds)) return false;
                break;
            case FixedWidthType wa when b is FixedWidthType wb:
                return wa.BitWidth == wb.BitWidth;
        }
        if (a is NestedType na && b is NestedType nb)
        {
            if (na.Fields.Count != nb.Fields.Count) return false;
            for (var i = 0; i < na.Fields.Count; i++)
            {
                if (!SameLayout(na.Fields[i].DataType, nb.Fields[i].DataType, depth + 1)) return false;
            }
        }
        return true;
    }

    private static long End(ArrayData d) => (long)d.Offset + d.Length;

    private static long BitBytes(long bits) => (bits + 7) / 8;

    private static ReadOnlySpan<byte> Buffer(ArrayData d, int index, string path, string what)
    {
        if (d.Buffers is null || d.Buffers.Length <= index) throw Fail(path, $"missing {what} buffer");
        return d.Buffers[index].Span;
    }

    private static ReadOnlySpan<byte> NeedBytes(ArrayData d, int index, string path, string what, long bytes)
    {
        if (d.Length == 0 && bytes == 0) return default;
        var span = Buffer(d, index, path, what);
        if (span.Length < bytes) throw Fail(path, $"{what} buffer has {span.Length} bytes, needs {bytes}");
        return span;
    }

    private static ArrayData Child(ArrayData d, int index, int expected, string path)
    {
        if (d.Children is null || d.Children.Length != expected) throw Fail(path, $"has {d.Children?.Length ?? 0} children, expected {expected}");
        return d.Children[index] ?? throw Fail(path, $"child {index} is missing");
    }

    private static int FixedWidth(IArrowType type, string path)
    {
        var bits = type is FixedWidthType f ? f.BitWidth : 0;
        if (bits <= 0 || bits % 8 != 0) throw Fail(path, $"type {type.Name} has no byte width ({bits} bits)");
        return bits / 8;
    }

    /// <summary>A validity bitmap, when present, covers the array and agrees with the null count; without one the count is 0.</summary>
    private static void Validity(ArrayData d, string path)
    {
        if (d.Length == 0) return;
        var bitmap = Buffer(d, 0, path, "validity");
        if (bitmap.IsEmpty)
        {
            if (d.NullCount > 0) throw Fail(path, $"null count {d.NullCount} but no validity bitmap");
            return;
        }
        if (bitmap.Length < BitBytes(End(d))) throw Fail(path, $"validity bitmap has {bitmap.Length} bytes, needs {BitBytes(End(d))}");
        var nulls = d.Length - CountSetBits(bitmap, d.Offset, d.Length);
        if (d.NullCount >= 0 && d.NullCount != nulls) throw Fail(path, $"null count {d.NullCount} but the bitmap has {nulls} nulls");
    }

    private static bool IsValid(ArrayData d, ReadOnlySpan<byte> bitmap, int index) =>
        bitmap.IsEmpty || (bitmap[index >> 3] & (1 << (index & 7))) != 0;

    private static void VariableWidth(ArrayData d, string path, bool large, bool utf8)
    {
        if (d.Length == 0) return;
        var data = Buffer(d, 2, path, "data");
        var (first, last) = Offsets(d, 1, path, large, data.Length);
        if (utf8) Utf8Values(d, path, large, data, first, last);
    }

    /// <summary>Checks offsets[offset..offset+length] are non-negative, monotonic and at most <paramref name="limit"/>; returns the first and last.</summary>
    private static (long First, long Last) Offsets(ArrayData d, int index, string path, bool large, long limit)
    {
        var width = large ? 8 : 4;
        var bytes = NeedBytes(d, index, path, "offsets", (End(d) + 1) * width);
        long first, previous;
        if (large)
        {
            var offsets = MemoryMarshal.Cast<byte, long>(bytes);
            first = previous = offsets[d.Offset];
            if (first < 0) throw Fail(path, $"negative offset {first}");
            for (var i = d.Offset + 1; i <= d.Offset + d.Length; i++)
            {
                if (offsets[i] < previous) throw Fail(path, $"offsets decrease at {i} ({previous} then {offsets[i]})");
                previous = offsets[i];
            }
        }
        else
        {
            var offsets = MemoryMarshal.Cast<byte, int>(bytes).Slice(d.Offset, d.Length + 1);
            first = offsets[0];
            if (first < 0) throw Fail(path, $"negative offset {first}");
            if (FirstDecrease(offsets) is var at and >= 0)
                throw Fail(path, $"offsets decrease at {d.Offset + at} ({offsets[at - 1]} then {offsets[at]})");
            previous = offsets[^1];
        }
        if (previous > limit) throw Fail(path, $"last offset {previous} is past the end ({limit})");
        return (first, previous);
    }

    /// <summary>
    /// The first index i ≥ 1 with <c>offsets[i] &lt; offsets[i - 1]</c>, or -1: vectors of each element against its
    /// predecessor (two overlapping loads) — the int offsets of every string column of every batch pass here.
    /// </summary>
    private static int FirstDecrease(ReadOnlySpan<int> offsets)
    {
        var i = 1;
        if (Vector.IsHardwareAccelerated && offsets.Length > Vector<int>.Count)
        {
            for (; i + Vector<int>.Count <= offsets.Length; i += Vector<int>.Count)
            {
                var current = new Vector<int>(offsets[i..]);
                var before = new Vector<int>(offsets[(i - 1)..]);
                if (Vector.LessThanAny(current, before)) break; // the scalar loop below names the element
            }
        }
        for (; i < offsets.Length; i++)
        {
            if (offsets[i] < offsets[i - 1]) return i;
        }
        return -1;
    }

    /// <summary>
    /// The whole value range is valid UTF-8 and no value boundary falls inside a character, which together mean
    /// every value is valid UTF-8 (one vectorized pass instead of one per value).
    /// </summary>
    private static void Utf8Values(ArrayData d, string path, bool large, ReadOnlySpan<byte> data, long first, long last)
    {
        var range = data.Slice((int)first, (int)(last - first));
        // ASCII (most telemetry) is valid UTF-8 with no continuation bytes: no boundary can fall inside a character.
        if (System.Text.Ascii.IsValid(range)) return;
        if (!Utf8.IsValid(range)) throw Fail(path, "string data is not valid UTF-8");
        var bytes = Buffer(d, 1, path, "offsets");
        if (large)
        {
            var offsets = MemoryMarshal.Cast<byte, long>(bytes);
            for (var i = d.Offset + 1; i < d.Offset + d.Length; i++)
            {
                var o = offsets[i];
                if (o < last && (data[(int)o] & 0xC0) == 0x80) throw Fail(path, $"string value {i - d.Offset} starts inside a UTF-8 character");
            }
            return;
        }
        // int offsets (the common case) cast once, not per value.
        var narrow = MemoryMarshal.Cast<byte, int>(bytes);
        for (var i = d.Offset + 1; i < d.Offset + d.Length; i++)
        {
            var o = narrow[i];
            if (o < last && (data[o] & 0xC0) == 0x80) throw Fail(path, $"string value {i - d.Offset} starts inside a UTF-8 character");
        }
    }

    private static void Views(ArrayData d, string path, bool utf8)
    {
        var views = NeedBytes(d, 1, path, "views", End(d) * 16);
        if (d.Length == 0) return;
        var bitmap = Buffer(d, 0, path, "validity");
        var dataBuffers = d.Buffers!.Length - 2;
        for (var i = d.Offset; i < d.Offset + d.Length; i++)
        {
            if (!IsValid(d, bitmap, i)) continue;
            var view = views.Slice(i * 16, 16);
            var length = BinaryPrimitives.ReadInt32LittleEndian(view);
            if (length < 0) throw Fail(path, $"view {i} has negative length {length}");
            ReadOnlySpan<byte> value;
            if (length <= 12)
            {
                value = view.Slice(4, length);
            }
            else
            {
                var buffer = BinaryPrimitives.ReadInt32LittleEndian(view[8..]);
                var offset = BinaryPrimitives.ReadInt32LittleEndian(view[12..]);
                if (buffer < 0 || buffer >= dataBuffers) throw Fail(path, $"view {i} names data buffer {buffer} of {dataBuffers}");
                var data = d.Buffers[2 + buffer].Span;
                if (offset < 0 || (long)offset + length > data.Length) throw Fail(path, $"view {i} range [{offset}, +{length}) is outside data buffer {buffer} ({data.Length} bytes)");
                value = data.Slice(offset, length);
            }
            if (utf8 && !Utf8.IsValid(value)) throw Fail(path, $"string view {i} is not valid UTF-8");
        }
    }

    private static void ListLike(ArrayData d, string path, int depth, bool large, bool utf8)
    {
        var child = Child(d, 0, 1, path);
        var childPath = path + " → item";
        if (d.Length > 0) Offsets(d, 1, path, large, child.Length);
        Check(child, childPath, depth + 1, utf8);
    }

    private static void MapEntries(ArrayData d, string path)
    {
        var entries = d.Children![0];
        if (entries.DataType.TypeId != ArrowTypeId.Struct || entries.Children is not { Length: 2 })
            throw Fail(path, "map entries are not a struct of key and value");
        var keys = entries.Children[0];
        if (keys.Length == 0 || keys.Buffers is not { Length: > 0 }) return;
        var bitmap = keys.Buffers[0].Span;
        if (!bitmap.IsEmpty && CountSetBits(bitmap, keys.Offset, keys.Length) != keys.Length) throw Fail(path, "map has null keys");
    }

    private static void ListViews(ArrayData d, string path, int depth, bool large, bool utf8)
    {
        var child = Child(d, 0, 1, path);
        var width = large ? 8 : 4;
        var offsets = NeedBytes(d, 1, path, "offsets", End(d) * width);
        var sizes = NeedBytes(d, 2, path, "sizes", End(d) * width);
        var bitmap = d.Length == 0 ? default : Buffer(d, 0, path, "validity");
        for (var i = d.Offset; i < d.Offset + d.Length; i++)
        {
            if (!IsValid(d, bitmap, i)) continue;
            long offset = large ? MemoryMarshal.Cast<byte, long>(offsets)[i] : MemoryMarshal.Cast<byte, int>(offsets)[i];
            long size = large ? MemoryMarshal.Cast<byte, long>(sizes)[i] : MemoryMarshal.Cast<byte, int>(sizes)[i];
            if (offset < 0 || size < 0 || offset + size > child.Length)
                throw Fail(path, $"list view {i} range [{offset}, +{size}) is outside the child ({child.Length} items)");
        }
        Check(child, path + " → item", depth + 1, utf8);
    }

    private static void FixedSizeList(ArrayData d, FixedSizeListType type, string path, int depth, bool utf8)
    {
        var child = Child(d, 0, 1, path);
        if (type.ListSize < 0) throw Fail(path, $"negative list size {type.ListSize}");
        if (child.Length < End(d) * type.ListSize) throw Fail(path, $"child has {child.Length} items, needs {End(d) * type.ListSize}");
        Check(child, path + " → item", depth + 1, utf8);
    }

    private static void Struct(ArrayData d, StructType type, string path, int depth, bool utf8)
    {
        var count = type.Fields.Count;
        for (var i = 0; i < count; i++)
        {
            var child = Child(d, i, count, path);
            var childPath = $"{path} → '{type.Fields[i].Name}'";
            if (child.Length < End(d)) throw Fail(childPath, $"has {child.Length} items, the struct needs {End(d)}");
            Check(child, childPath, depth + 1, utf8);
        }
    }

    private static void Dictionary(ArrayData d, DictionaryType type, string path, int depth, bool utf8)
    {
        var dictionary = d.Dictionary ?? throw Fail(path, "dictionary array without a dictionary");
        if (dictionary.DataType.TypeId != type.ValueType.TypeId)
            throw Fail(path, $"dictionary holds {dictionary.DataType.TypeId}, the type says {type.ValueType.TypeId}");
        Check(dictionary, path + " → dictionary", depth + 1, utf8);
        var indexType = type.IndexType.TypeId;
        var width = indexType switch
        {
            ArrowTypeId.Int8 or ArrowTypeId.UInt8 => 1,
            ArrowTypeId.Int16 or ArrowTypeId.UInt16 => 2,
            ArrowTypeId.Int32 or ArrowTypeId.UInt32 => 4,
            ArrowTypeId.Int64 or ArrowTypeId.UInt64 => 8,
            _ => throw Fail(path, $"dictionary index type {indexType} is not an integer"),
        };
        var indices = NeedBytes(d, 1, path, "indices", End(d) * width);
        var bitmap = d.Length == 0 ? default : Buffer(d, 0, path, "validity");
        for (var i = d.Offset; i < d.Offset + d.Length; i++)
        {
            if (!IsValid(d, bitmap, i)) continue;
            var at = indices.Slice(i * width, width);
            var index = indexType switch
            {
                ArrowTypeId.Int8 => (sbyte)at[0],
                ArrowTypeId.UInt8 => at[0],
                ArrowTypeId.Int16 => BinaryPrimitives.ReadInt16LittleEndian(at),
                ArrowTypeId.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(at),
                ArrowTypeId.Int32 => BinaryPrimitives.ReadInt32LittleEndian(at),
                ArrowTypeId.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(at),
                ArrowTypeId.Int64 => BinaryPrimitives.ReadInt64LittleEndian(at),
                _ => (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(at), long.MaxValue),
            };
            if (index < 0 || index >= dictionary.Length) throw Fail(path, $"dictionary index {index} at {i} is outside the dictionary ({dictionary.Length} values)");
        }
    }

    private static void Union(ArrayData d, UnionType type, string path, int depth, bool utf8)
    {
        var count = type.Fields.Count;
        var children = new ArrayData[count];
        for (var c = 0; c < count; c++) children[c] = Child(d, c, count, path);
        var codes = type.TypeIds;
        if (codes.Length != count) throw Fail(path, $"{codes.Length} type ids for {count} children");
        var typeIds = NeedBytes(d, 0, path, "type ids", End(d));
        var dense = type.Mode == UnionMode.Dense;
        var offsets = dense ? MemoryMarshal.Cast<byte, int>(NeedBytes(d, 1, path, "offsets", End(d) * 4)) : default;
        for (var i = d.Offset; i < d.Offset + d.Length; i++)
        {
            var child = System.Array.IndexOf(codes, (int)(sbyte)typeIds[i]);
            if (child < 0) throw Fail(path, $"type id {(sbyte)typeIds[i]} at {i} is not one of the union's");
            if (dense && (offsets[i] < 0 || offsets[i] >= children[child].Length))
                throw Fail(path, $"offset {offsets[i]} at {i} is outside child {child} ({children[child].Length} items)");
        }
        for (var c = 0; c < count; c++)
        {
            var childPath = $"{path} → '{type.Fields[c].Name}'";
            if (!dense && children[c].Length < End(d)) throw Fail(childPath, $"has {children[c].Length} items, the sparse union needs {End(d)}");
            Check(children[c], childPath, depth + 1, utf8);
        }
    }

    /// <summary>Set bits in [offset, offset + length) of a bitmap already checked to be long enough.</summary>
    internal static int CountSetBits(ReadOnlySpan<byte> bitmap, int offset, int length)
    {
        long count = 0;
        var i = offset;
        var end = offset + length;
        while (i < end && (i & 7) != 0)
        {
            count += (bitmap[i >> 3] >> (i & 7)) & 1;
            i++;
        }
        while (i + 64 <= end)
        {
            count += BitOperations.PopCount(BinaryPrimitives.ReadUInt64LittleEndian(bitmap.Slice(i >> 3, 8)));
            i += 64;
        }
        while (i + 8 <= end)
        {
            count += BitOperations.PopCount(bitmap[i >> 3]);
            i += 8;
        }
        while (i < end)
        {
            count += (bitmap[i >> 3] >> (i & 7)) & 1;
            i++;
        }
        return (int)count;
    }

    private static ArrowValidationException Fail(string path, string problem) => new($"{path}: {problem}");
}
