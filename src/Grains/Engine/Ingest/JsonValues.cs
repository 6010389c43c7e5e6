using System.Text.Json;
using Apache.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Ingest;

/// <summary>
/// A JSON column holds JSON: an invalid document stored once would make every <c>-&gt;&gt;</c> over the project fail
/// (DuckDB parses JSON at query time). Each value is read to its end with a <see cref="Utf8JsonReader"/> straight over
/// the column's value bytes — no string, no document, no allocation per row.
/// </summary>
internal static class JsonValues
{
    // Deep enough for any real attributes document, shallow enough that a hostile one cannot recurse far.
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 256 };

    /// <summary>Refuses a value of <paramref name="array"/> (a JSON column as UTF-8 strings) that is not one JSON document.</summary>
    /// <exception cref="BatchRejectedException">22P02, naming the row and column.</exception>
    public static void Check(IArrowArray array, string column)
    {
        if (array is not StringArray strings || strings.Length == 0) return;
        if (AllDocuments(strings)) return;
        var offsets = strings.ValueOffsets;
        var values = strings.Values;
        var hasNulls = strings.NullCount > 0;
        for (var row = 0; row < strings.Length; row++)
        {
            if (hasNulls && strings.IsNull(row)) continue;
            var value = values.Slice(offsets[row], offsets[row + 1] - offsets[row]);
            if (!IsDocument(value, out var problem))
                throw new BatchRejectedException($"row {row}, column '{column}': invalid input syntax for type json ({problem})", SqlState.InvalidTextRepresentation);
        }
    }

    /// <summary>
    /// The fast path: one reader over the column's value bytes, reading one value after another
    /// (<see cref="JsonReaderOptions.AllowMultipleValues"/>), each of which must start and end inside its own row — so
    /// each row holds exactly one document. True when every row passed; false when any did not or the layout does not
    /// allow the check (a null row with bytes, two rows' numbers read as one): the caller then checks row by row, which
    /// finds and names the bad row. One reader per column instead of one per row.
    /// </summary>
    private static bool AllDocuments(StringArray strings) => ForEachDocument(strings, static (ref Utf8JsonReader reader, int _) =>
    {
        reader.Skip();
        return true;
    });

    /// <summary>Reads the document whose first token <paramref name="reader"/> is on (row <paramref name="row"/>) to its end; false if it is not one.</summary>
    internal delegate bool DocumentReader(ref Utf8JsonReader reader, int row);

    /// <summary>
    /// <see cref="AllDocuments"/>'s pass with what each row's document is read for left to <paramref name="read"/> (the
    /// flattened attributes note matching keys on the way): true when every non-null row held exactly one document.
    /// </summary>
    internal static bool ForEachDocument(StringArray strings, DocumentReader read)
    {
        var offsets = strings.ValueOffsets;
        var start = offsets[0];
        var reader = new Utf8JsonReader(strings.Values.Slice(start, offsets[strings.Length] - start), ColumnOptions);
        var hasNulls = strings.NullCount > 0;
        try
        {
            for (var row = 0; row < strings.Length; row++)
            {
                var from = offsets[row] - start;
                var to = offsets[row + 1] - start;
                if (hasNulls && strings.IsNull(row))
                {
                    if (to != from) return false;
                    continue;
                }
                if (to == from || !reader.Read() || reader.TokenStartIndex < from || reader.TokenStartIndex >= to) return false;
                if (!read(ref reader, row) || reader.BytesConsumed > to) return false;
            }
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static readonly JsonReaderOptions ColumnOptions = new() { MaxDepth = 256, AllowMultipleValues = true };

    /// <summary>Whether <paramref name="utf8"/> is exactly one JSON value (whitespace around it allowed).</summary>
    internal static bool IsDocument(ReadOnlySpan<byte> utf8, out string problem)
    {
        var reader = new Utf8JsonReader(utf8, Options);
        try
        {
            if (!reader.Read())
            {
                problem = "the value is empty";
                return false;
            }
            reader.Skip();
            if (reader.Read())
            {
                problem = $"unexpected data after the value at byte {reader.TokenStartIndex}";
                return false;
            }
        }
        catch (JsonException e)
        {
            problem = $"at byte {e.BytePositionInLine}";
            return false;
        }
        problem = "";
        return true;
    }
}
