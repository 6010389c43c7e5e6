using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Ingest;

/// <summary>
/// Fills a table's flattened attribute columns (<c>attributes___http___response___status_code</c>,
/// <c>resource___service___name</c>, …) from its JSON <c>attributes</c> / <c>resource</c> columns, on every ingest path
/// (INSERT, COPY, Arrow Flight, the SDK, OTLP): the one place is the validator's JSON check, which reads each document
/// once anyway, so the top-level keys are matched during that same pass (no extra parse, no allocation for a row
/// whose keys match nothing). A column maps the attribute key written with each <c>___</c> (and the few <c>__</c>)
/// as a dot. A value the writer supplied (not null) wins; a JSON value of the wrong kind (an object, a number too
/// large for the column, a string that is not an integer for an integer column) leaves the column null.
/// </summary>
internal sealed class FlattenedAttributes
{
    private static readonly ConditionalWeakTable<TableSchema, FlattenedAttributes> Cache = [];
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 256 };

    private readonly Source[] _sources;

    private FlattenedAttributes(Source[] sources) => _sources = sources;

    /// <summary>A JSON column and the flattened columns it fills, by attribute key.</summary>
    private sealed class Source(int ordinal, string name, Dictionary<string, int> targets)
    {
        public int Ordinal { get; } = ordinal;
        public int[] TargetOrdinals { get; } = [.. targets.Values];
        public string Name { get; } = name;
        public Dictionary<string, int> Targets { get; } = targets;
        // Keys looked up by a property name's UTF-8 bytes as the reader sees them: no transcoding per property.
        public Dictionary<string, int>.AlternateLookup<ReadOnlySpan<byte>> Lookup { get; } =
            new Dictionary<string, int>(targets, Utf8KeyComparer.Instance).GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Ordinal string keys that can also be found by their UTF-8 bytes (hashes of the UTF-8 form for both).</summary>
    private sealed class Utf8KeyComparer : IEqualityComparer<string>, IAlternateEqualityComparer<ReadOnlySpan<byte>, string>
    {
        public static readonly Utf8KeyComparer Instance = new();

        public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

        public int GetHashCode(string key) => GetHashCode(Encoding.UTF8.GetBytes(key));

        public bool Equals(ReadOnlySpan<byte> alternate, string other) =>
            Encoding.UTF8.GetByteCount(other) == alternate.Length && alternate.SequenceEqual(Encoding.UTF8.GetBytes(other));

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public string Create(ReadOnlySpan<byte> alternate) => Encoding.UTF8.GetString(alternate);
    }

    /// <summary>The flattening of <paramref name="schema"/>, or null when it has no JSON column with flattened columns.</summary>
    public static FlattenedAttributes? For(TableSchema schema)
    {
        var f = Cache.GetValue(schema, Build);
        return f._sources.Length == 0 ? null : f;
    }

    private static FlattenedAttributes Build(TableSchema schema)
    {
        var sources = new List<Source>();
        for (var i = 0; i < schema.Columns.Count; i++)
        {
            var json = schema.Columns[i];
            if (json.Type != ColumnType.Json) continue;
            var prefix = json.Name + "___";
            var targets = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var c = 0; c < schema.Columns.Count; c++)
            {
                var column = schema.Columns[c];
                if (!column.Name.StartsWith(prefix, StringComparison.Ordinal) || column.Type is not (ColumnType.Utf8 or ColumnType.Int32 or ColumnType.Int64)) continue;
                var key = column.Name[prefix.Length..].Replace("___", ".", StringComparison.Ordinal).Replace("__", ".", StringComparison.Ordinal);
                targets.TryAdd(key, c);
            }
            if (targets.Count > 0) sources.Add(new Source(i, json.Name, targets));
        }
        return new FlattenedAttributes([.. sources]);
    }

    /// <summary>Whether column <paramref name="ordinal"/> is a JSON column this flattening reads (and checks).</summary>
    public bool IsSource(int ordinal)
    {
        foreach (var s in _sources)
        {
            if (s.Ordinal == ordinal) return true;
        }
        return false;
    }

    /// <summary>
    /// Checks each source JSON column (as <see cref="JsonValues.Check"/> does) and, in the same pass, fills the null
    /// rows of its flattened columns in <paramref name="arrays"/> (canonical arrays of the table's columns).
    /// </summary>
    /// <exception cref="BatchRejectedException">22P02: a value is not one JSON document.</exception>
    public void CheckAndFill(IArrowArray[] arrays, int rows, TableSchema schema, bool fill)
    {
        foreach (var source in _sources)
        {
            if (arrays[source.Ordinal] is not StringArray json || json.Length == 0) continue;
            // Nothing to fill when every flattened row was supplied: only the check.
            var open = fill && AnyNull(arrays, source.TargetOrdinals);
            if (!open)
            {
                JsonValues.Check(json, source.Name);
                continue;
            }
            var found = new Dictionary<int, object?[]>();
            if (!ReadColumn(json, source, arrays, found, rows))
            {
                // Row by row: finds and names the bad row (or reads a layout the one-reader pass does not take).
                found.Clear();
                var offsets = json.ValueOffsets;
                var values = json.Values;
                var hasNulls = json.NullCount > 0;
                for (var row = 0; row < json.Length; row++)
                {
                    if (hasNulls && json.IsNull(row)) continue;
                    var value = values.Slice(offsets[row], offsets[row + 1] - offsets[row]);
                    if (!Read(value, row, source, arrays, found, rows, out var problem))
                        throw new BatchRejectedException($"row {row}, column '{source.Name}': invalid input syntax for type json ({problem})", SqlState.InvalidTextRepresentation);
                }
            }
            foreach (var (ordinal, filled) in found)
                arrays[ordinal] = Merge(arrays[ordinal], filled, schema.Columns[ordinal].Type);
        }
    }

    private static bool AnyNull(IArrowArray[] arrays, int[] ordinals)
    {
        foreach (var t in ordinals)
        {
            if (arrays[t].NullCount > 0) return true;
        }
        return false;
    }

    /// <summary>
    /// The whole column with one reader (as <see cref="JsonValues.Check"/>'s fast path): each row's document must start
    /// and end inside the row. False when a row is not one document or the layout does not allow the pass; the caller
    /// then reads row by row.
    /// </summary>
    private static bool ReadColumn(StringArray json, Source source, IArrowArray[] arrays, Dictionary<int, object?[]> found, int rows) =>
        JsonValues.ForEachDocument(json, (ref Utf8JsonReader reader, int row) => ReadOne(ref reader, row, source, arrays, found, rows, out _));

    /// <summary>Reads one document to its end (the check), noting the values of matching top-level keys for null cells.</summary>
    private static bool Read(ReadOnlySpan<byte> utf8, int row, Source source, IArrowArray[] arrays, Dictionary<int, object?[]> found, int rows, out string problem)
    {
        var reader = new Utf8JsonReader(utf8, ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                problem = "the value is empty";
                return false;
            }
            if (!ReadOne(ref reader, row, source, arrays, found, rows, out problem)) return false;
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

    /// <summary>Reads the document whose first token the reader is on to its end; top-level keys matched by their UTF-8 bytes.</summary>
    private static bool ReadOne(ref Utf8JsonReader reader, int row, Source source, IArrowArray[] arrays, Dictionary<int, object?[]> found, int rows, out string problem)
    {
        problem = "";
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return true;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var target = -1;
            if (!reader.ValueIsEscaped && !reader.HasValueSequence)
            {
                if (source.Lookup.TryGetValue(reader.ValueSpan, out var t)) target = t;
            }
            else if (source.Targets.TryGetValue(reader.GetString()!, out var t))
            {
                target = t;
            }
            reader.Read();
            if (target >= 0 && arrays[target].IsNull(row))
            {
                if (Value(ref reader, arrays[target]) is { } v)
                {
                    if (!found.TryGetValue(target, out var cells)) found[target] = cells = new object?[rows];
                    cells[row] = v;
                }
            }
            reader.Skip(); // a nested object or array is read (and checked) to its end
        }
        if (reader.TokenType != JsonTokenType.EndObject)
        {
            problem = "the object is not closed";
            return false;
        }
        return true;
    }

    /// <summary>The JSON value at <paramref name="reader"/> as the target column holds it, or null when it does not fit.</summary>
    private static object? Value(ref Utf8JsonReader reader, IArrowArray target)
    {
        switch (target)
        {
            case StringArray:
                return reader.TokenType switch
                {
                    JsonTokenType.String when reader.GetString() is { } s && !s.Contains('\0', StringComparison.Ordinal) => s,
                    JsonTokenType.Number => Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
                    JsonTokenType.True => "true",
                    JsonTokenType.False => "false",
                    _ => null,
                };
            case Int32Array:
                return AsInt64(ref reader) is { } i32 && i32 is >= int.MinValue and <= int.MaxValue ? (int)i32 : null;
            case Int64Array:
                return AsInt64(ref reader);
            default:
                return null;
        }
    }

    private static long? AsInt64(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetInt64(out var n) => n,
        JsonTokenType.String when long.TryParse(reader.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
        _ => null,
    };

    /// <summary>The column with its null cells replaced by the found values (a supplied value is kept).</summary>
    private static IArrowArray Merge(IArrowArray original, object?[] found, ColumnType type)
    {
        switch (type)
        {
            case ColumnType.Utf8:
            {
                var strings = (StringArray)original;
                var builder = new StringArray.Builder();
                for (var i = 0; i < found.Length; i++)
                {
                    if (!strings.IsNull(i)) builder.Append(strings.GetString(i));
                    else if (found[i] is string s) builder.Append(s);
                    else builder.AppendNull();
                }
                return ManagedArrowMemory.Build(builder);
            }
            case ColumnType.Int32:
            {
                var ints = (Int32Array)original;
                var builder = new Int32Array.Builder().Reserve(found.Length);
                for (var i = 0; i < found.Length; i++)
                {
                    if (ints.GetValue(i) is { } v) builder.Append(v);
                    else if (found[i] is int f) builder.Append(f);
                    else builder.AppendNull();
                }
                return ManagedArrowMemory.Build(builder);
            }
            default:
            {
                var longs = (Int64Array)original;
                var builder = new Int64Array.Builder().Reserve(found.Length);
                for (var i = 0; i < found.Length; i++)
                {
                    if (longs.GetValue(i) is { } v) builder.Append(v);
                    else if (found[i] is long f) builder.Append(f);
                    else builder.AppendNull();
                }
                return ManagedArrowMemory.Build(builder);
            }
        }
    }
}
