using Apache.Arrow;
using Apache.Arrow.Types;

namespace TimeFusion.Delta;

/// <summary>
/// Reads values out of the Arrow arrays of a checkpoint, whatever physical Arrow type its writer chose
/// (utf8 / large_utf8 / utf8_view strings, int32 or int64 numbers, …). A type we cannot interpret is an error
/// naming the column, never a silent null.
/// </summary>
internal static class CheckpointArrow
{
    public static IArrowArray? Child(StructArray parent, string name)
    {
        var type = (StructType)parent.Data.DataType;
        var index = type.GetFieldIndex(name);
        if (index < 0) return null;
        var child = parent.Fields[index];
        if (child.Offset != 0 || parent.Offset != 0)
            throw new DeltaLogCorruptException($"checkpoint column '{name}': unexpected sliced Arrow array");
        return child;
    }

    public static string? GetString(IArrowArray? array, int i, string column) => array switch
    {
        null => null,
        _ when array.IsNull(i) => null,
        StringArray s => s.GetString(i),
        LargeStringArray l => l.GetString(i),
        StringViewArray v => v.GetString(i),
        _ => throw Unexpected(column, array),
    };

    public static long? GetLong(IArrowArray? array, int i, string column) => array switch
    {
        null => null,
        _ when array.IsNull(i) => null,
        Int64Array a => a.GetValue(i),
        Int32Array a => a.GetValue(i),
        Int16Array a => a.GetValue(i),
        Int8Array a => a.GetValue(i),
        UInt32Array a => a.GetValue(i),
        UInt16Array a => a.GetValue(i),
        UInt8Array a => a.GetValue(i),
        UInt64Array a => a.GetValue(i) is { } u && u <= long.MaxValue ? (long)u : throw new DeltaLogCorruptException($"checkpoint column '{column}': value out of range"),
        _ => throw Unexpected(column, array),
    };

    public static bool? GetBool(IArrowArray? array, int i, string column) => array switch
    {
        null => null,
        _ when array.IsNull(i) => null,
        BooleanArray b => b.GetValue(i),
        _ => throw Unexpected(column, array),
    };

    /// <summary>A map&lt;string,string&gt; value (null values kept), or null when the map itself is null.</summary>
    public static Dictionary<string, string?>? GetMap(IArrowArray? array, int i, string column)
    {
        if (array is null || array.IsNull(i)) return null;
        if (array is not MapArray map) throw Unexpected(column, array);
        var start = map.ValueOffsets[i];
        var length = map.GetValueLength(i);
        var result = new Dictionary<string, string?>(length, StringComparer.Ordinal);
        for (var k = start; k < start + length; k++)
        {
            var key = GetString(map.Keys, k, column + ".key") ?? throw new DeltaLogCorruptException($"checkpoint column '{column}': null map key");
            result[key] = GetString(map.Values, k, column + ".value");
        }
        return result;
    }

    /// <summary>A list&lt;string&gt; value, or null when the list is null.</summary>
    public static List<string>? GetStringList(IArrowArray? array, int i, string column)
    {
        if (array is null || array.IsNull(i)) return null;
        var (values, start, length) = array switch
        {
            ListArray l => (l.Values, l.ValueOffsets[i], l.GetValueLength(i)),
            LargeListArray l => (l.Values, checked((int)l.ValueOffsets[i]), checked((int)(l.ValueOffsets[i + 1] - l.ValueOffsets[i]))),
            _ => throw Unexpected(column, array),
        };
        var result = new List<string>(length);
        for (var k = start; k < start + length; k++)
            result.Add(GetString(values, k, column + ".element") ?? throw new DeltaLogCorruptException($"checkpoint column '{column}': null list element"));
        return result;
    }

    private static DeltaLogCorruptException Unexpected(string column, IArrowArray array) =>
        new($"checkpoint column '{column}' has unexpected Arrow type {array.Data.DataType.Name}");
}
