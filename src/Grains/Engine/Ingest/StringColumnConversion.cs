using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Wire;

namespace TimeFusion.Ingest;

/// <summary>
/// Converts the string encodings clients send (LargeUtf8, Utf8View, dictionary-encoded strings) into plain
/// Utf8, the buffer's canonical form, so comparisons never meet two string types. Plain Utf8 passes through
/// untouched; the others are copied once into pre-sized buffers (no per-row allocation).
/// </summary>
internal static class StringColumnConversion
{
    /// <summary>Whether the array holds strings in any encoding we accept.</summary>
    public static bool IsStringLike(IArrowType type) => type switch
    {
        StringType or LargeStringType or StringViewType => true,
        DictionaryType d => d.ValueType is StringType or LargeStringType or StringViewType,
        _ => false,
    };

    /// <summary>Returns <paramref name="array"/> as a <see cref="StringArray"/>.</summary>
    public static StringArray ToUtf8(IArrowArray array)
    {
        switch (array)
        {
            case StringArray s:
                return s;
            case LargeStringArray l:
                return Gather(l.Length, l.IsNull, i => l.GetBytes(i));
            case StringViewArray v:
                return Gather(v.Length, v.IsNull, i => v.GetBytes(i));
            case DictionaryArray d:
                return FromDictionary(d);
            default:
                throw new BatchRejectedException($"cannot read {array.Data.DataType.Name} as a string column");
        }
    }

    private static StringArray FromDictionary(DictionaryArray d)
    {
        var dictionary = ToUtf8(d.Dictionary);
        var indices = d.Indices;
        var length = d.Length;
        var keys = new long[length];
        for (var i = 0; i < length; i++)
        {
            keys[i] = indices switch
            {
                Int8Array a => a.GetValue(i) ?? -1,
                Int16Array a => a.GetValue(i) ?? -1,
                Int32Array a => a.GetValue(i) ?? -1,
                Int64Array a => a.GetValue(i) ?? -1,
                UInt8Array a => a.GetValue(i) ?? -1,
                UInt16Array a => a.GetValue(i) ?? -1,
                UInt32Array a => a.GetValue(i) is { } u ? u : -1,
                _ => throw new BatchRejectedException($"dictionary index type {indices.Data.DataType.Name} is not supported"),
            };
            if (keys[i] >= dictionary.Length)
                throw new BatchRejectedException($"dictionary index {keys[i]} at row {i} is out of range ({dictionary.Length} values)");
        }
        return Gather(length, i => keys[i] < 0 || dictionary.IsNull((int)keys[i]), i => dictionary.GetBytes((int)keys[i]));
    }

    private delegate ReadOnlySpan<byte> BytesAt(int index);

    private static StringArray Gather(int length, Func<int, bool> isNull, BytesAt bytesAt)
    {
        var total = 0L;
        for (var i = 0; i < length; i++)
        {
            if (!isNull(i)) total += bytesAt(i).Length;
        }
        if (total > int.MaxValue)
            throw new BatchRejectedException("a string column holds more than 2 GiB; send smaller batches");

        var offsets = new ArrowBuffer.Builder<int>(length + 1);
        var data = new ArrowBuffer.Builder<byte>((int)Math.Max(total, 1));
        var validity = new ArrowBuffer.BitmapBuilder(length);
        var nulls = 0;
        offsets.Append(0);
        var position = 0;
        for (var i = 0; i < length; i++)
        {
            if (isNull(i))
            {
                validity.Append(false);
                nulls++;
            }
            else
            {
                var bytes = bytesAt(i);
                data.Append(bytes);
                position += bytes.Length;
                validity.Append(true);
            }
            offsets.Append(position);
        }
        return new StringArray(length, ManagedArrowMemory.Build(offsets), ManagedArrowMemory.Build(data), nulls == 0 ? ArrowBuffer.Empty : ManagedArrowMemory.Build(validity), nulls, 0);
    }
}
