using Apache.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Ingest;

/// <summary>
/// Text may not hold the NUL character, as in PostgreSQL ("invalid byte sequence for encoding UTF8: 0x00"): DuckDB
/// would store it and send it back raw, which PostgreSQL clients do not expect. One vectorized search over a string
/// column's value bytes; the row is worked out only when a NUL is found.
/// </summary>
internal static class NulCharacters
{
    /// <summary>Refuses a NUL byte in the values of <paramref name="array"/> (a string column, or a list of strings).</summary>
    /// <exception cref="BatchRejectedException">22021, naming the column and row.</exception>
    public static void Check(IArrowArray array, string column)
    {
        switch (array)
        {
            case StringArray strings:
                if (FirstRowWithNul(strings) is { } row)
                    throw new BatchRejectedException($"row {row}, column '{column}': invalid byte sequence for encoding \"UTF8\": 0x00", SqlState.CharacterNotInRepertoire);
                break;
            case ListArray { Values: StringArray values } list:
                if (FirstRowWithNul(values) is { } valueIndex)
                    throw new BatchRejectedException($"row {RowOfListValue(list, valueIndex)}, column '{column}': invalid byte sequence for encoding \"UTF8\": 0x00",
                        SqlState.CharacterNotInRepertoire);
                break;
        }
    }

    private static int? FirstRowWithNul(StringArray strings)
    {
        if (strings.Length == 0) return null;
        var offsets = strings.ValueOffsets;
        var start = offsets[0];
        var bytes = strings.Values.Slice(start, offsets[strings.Length] - start);
        var at = bytes.IndexOf((byte)0);
        if (at < 0) return null;
        // Offsets are sorted: the row whose value range holds the byte. A null row's range is empty, so never holds it.
        var absolute = start + at;
        var row = offsets.Slice(0, strings.Length + 1).BinarySearch(absolute);
        row = row >= 0 ? row : ~row - 1;
        while (row + 1 < offsets.Length && offsets[row + 1] <= absolute) row++;
        return row;
    }

    private static int RowOfListValue(ListArray list, int valueIndex)
    {
        var offsets = list.ValueOffsets;
        for (var row = 0; row < list.Length; row++)
            if (valueIndex < offsets[row + 1]) return row;
        return list.Length - 1;
    }
}
