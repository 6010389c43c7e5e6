using System.Collections;
using System.Globalization;
using System.Text;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>
/// Turns the <c>column_statistics</c> map that DuckDB's <c>COPY … (RETURN_STATS)</c> returns
/// (<c>{"col": {min, max, null_count, …}}</c>, values as DuckDB text) into typed <see cref="ColumnStats"/>.
/// A value that does not parse is left out (no stats is always safe for readers); it never fails an export.
/// </summary>
internal static class ParquetStatsParser
{
    private const string MaxTieBreaker = "\U0010FFFF";

    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd HH:mm:ss.FFFFFFzz", "yyyy-MM-dd HH:mm:ss.FFFFFFzzz",
        "yyyy-MM-dd HH:mm:sszz", "yyyy-MM-dd HH:mm:sszzz",
    ];

    public static Dictionary<string, ColumnStats> Parse(object? columnStatistics, TableSchema schema, int maxStringLength)
    {
        var result = new Dictionary<string, ColumnStats>(StringComparer.Ordinal);
        if (columnStatistics is not IDictionary map)
            return result;
        foreach (DictionaryEntry entry in map)
        {
            if (entry.Key is not string key || !TryUnquoteTopLevel(key, out var name))
                continue; // nested leaves such as "hashes"."element"
            var column = schema.Find(name);
            if (column is null || entry.Value is not IDictionary values)
                continue;
            var min = Get(values, "min");
            var max = Get(values, "max");
            long? nullCount = long.TryParse(Get(values, "null_count"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
            result[name] = column.Type switch
            {
                ColumnType.Utf8List => new ColumnStats(null, null, null),
                ColumnType.Binary => new ColumnStats(nullCount, null, null),
                _ => new ColumnStats(nullCount, Convert(column.Type, min, isMax: false, maxStringLength), Convert(column.Type, max, isMax: true, maxStringLength)),
            };
        }
        return result;
    }

    private static string? Get(IDictionary values, string key) => values.Contains(key) ? values[key]?.ToString() : null;

    /// <summary>A top-level column key is one quoted identifier: <c>"name"</c>, with <c>""</c> for a quote.</summary>
    internal static bool TryUnquoteTopLevel(string key, out string name)
    {
        name = "";
        if (key.Length < 2 || key[0] != '"' || key[^1] != '"')
            return false;
        var sb = new StringBuilder(key.Length);
        for (var i = 1; i < key.Length - 1; i++)
        {
            if (key[i] == '"')
            {
                if (i + 1 < key.Length - 1 && key[i + 1] == '"')
                {
                    sb.Append('"');
                    i++;
                    continue;
                }
                return false; // a quote that closes an identifier before the end: a nested path
            }
            sb.Append(key[i]);
        }
        name = sb.ToString();
        return true;
    }

    internal static object? Convert(ColumnType type, string? text, bool isMax, int maxStringLength)
    {
        if (text is null)
            return null;
        switch (type)
        {
            case ColumnType.Int32 or ColumnType.Int64:
                return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;
            case ColumnType.Float64:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;
            case ColumnType.Boolean:
                return text switch { "1" or "true" => true, "0" or "false" => false, _ => null };
            case ColumnType.Date:
                return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
                    ? date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
                    : null;
            case ColumnType.TimestampUs:
                return DateTimeOffset.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var ts)
                    ? ts.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)
                    : null;
            case ColumnType.Utf8 or ColumnType.Json:
                return Truncate(text, isMax, maxStringLength);
            default:
                return null;
        }
    }

    /// <summary>
    /// Keeps the first <paramref name="maxLength"/> code points. A prefix is still a lower bound; a truncated
    /// upper bound gets U+10FFFF appended so it stays at or above every value with that prefix.
    /// </summary>
    internal static string Truncate(string value, bool isMax, int maxLength)
    {
        var runes = 0;
        var index = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            if (runes == maxLength)
                return isMax ? value[..index] + MaxTieBreaker : value[..index];
            runes++;
            index += rune.Utf16SequenceLength;
        }
        return value;
    }
}
