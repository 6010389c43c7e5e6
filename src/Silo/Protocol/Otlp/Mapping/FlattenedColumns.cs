using System.Globalization;
using System.Text;
using Google.Protobuf.Collections;
using TimeFusion.Otlp.Common.V1;
using TimeFusion.Silo.Protocol.Otlp.Mapping.Wire;
using TimeFusion.Tables;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>
/// The columns a table flattens out of attributes or the resource (<c>attributes___http___response___status_code</c>,
/// <c>resource___service___name</c>, …), keyed by the OpenTelemetry attribute key they hold (<c>http.response.status_code</c>):
/// the column name after the prefix with each <c>___</c> (and the table's few <c>__</c>) read as a dot. A matching
/// attribute fills its column as well as the JSON object: strings as text, integers into integer columns (a value
/// that does not fit stays only in the JSON).
/// </summary>
internal sealed class FlattenedColumns
{
    private readonly Dictionary<string, (int Ordinal, ColumnType Type)> _byKey = new(StringComparer.Ordinal);

    // The same keys as UTF-8, by length, for keys read straight from the wire (a few candidates per length).
    private readonly (byte[] Key, int Ordinal, ColumnType Type)[][] _byLength;

    /// <summary>The columns of <paramref name="schema"/> whose names start with <paramref name="prefix"/> (e.g. <c>attributes___</c>).</summary>
    public FlattenedColumns(TableSchema schema, string prefix)
    {
        for (var i = 0; i < schema.Columns.Count; i++)
        {
            var column = schema.Columns[i];
            if (!column.Name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var key = column.Name[prefix.Length..].Replace("___", ".", StringComparison.Ordinal).Replace("__", ".", StringComparison.Ordinal);
            _byKey.TryAdd(key, (i, column.Type));
        }
        var utf8 = _byKey.Select(kv => (Key: Encoding.UTF8.GetBytes(kv.Key), kv.Value.Ordinal, kv.Value.Type)).ToArray();
        _byLength = new (byte[], int, ColumnType)[utf8.Length == 0 ? 1 : utf8.Max(k => k.Key.Length) + 1][];
        for (var length = 0; length < _byLength.Length; length++) _byLength[length] = utf8.Where(k => k.Key.Length == length).ToArray();
    }

    /// <summary>The number of flattened columns.</summary>
    public int Count => _byKey.Count;

    /// <summary>Fills the flattened columns of the current row from <paramref name="attributes"/>.</summary>
    public void Fill(ColumnarRows rows, RepeatedField<KeyValue> attributes)
    {
        foreach (var kv in attributes)
        {
            if (!_byKey.TryGetValue(kv.Key, out var column) || kv.Value is not { } value) continue;
            Set(rows, column.Ordinal, column.Type, value);
        }
    }

    /// <summary>
    /// Fills the flattened column of <paramref name="key"/> (UTF-8, straight from the wire) from a scalar value, by the
    /// same rules as <see cref="Fill(ColumnarRows, RepeatedField{KeyValue})"/>.
    /// </summary>
    public void Fill<T>(T target, ReadOnlySpan<byte> key, Scalar value) where T : IFlatTarget
    {
        if (key.Length >= _byLength.Length) return;
        foreach (var (candidate, ordinal, type) in _byLength[key.Length])
        {
            if (!key.SequenceEqual(candidate)) continue;
            Set(target, ordinal, type, value);
            return;
        }
    }

    private static void Set<T>(T target, int ordinal, ColumnType type, Scalar value) where T : IFlatTarget
    {
        Span<byte> text = stackalloc byte[32];
        int written;
        switch (type)
        {
            case ColumnType.Utf8:
                switch (value.Kind)
                {
                    case ScalarKind.String: target.Utf8(ordinal, value.Utf8); break;
                    case ScalarKind.Int when value.Int.TryFormat(text, out written, default, CultureInfo.InvariantCulture): target.Utf8(ordinal, text[..written]); break;
                    case ScalarKind.Bool: target.Utf8(ordinal, value.Bool ? "true"u8 : "false"u8); break;
                    case ScalarKind.Double when value.Double.TryFormat(text, out written, "R", CultureInfo.InvariantCulture): target.Utf8(ordinal, text[..written]); break;
                }
                break;
            case ColumnType.Int32:
                if (AsInt64(value) is { } i32 && i32 is >= int.MinValue and <= int.MaxValue) target.Int32(ordinal, (int)i32);
                break;
            case ColumnType.Int64:
                if (AsInt64(value) is { } i64) target.Int64(ordinal, i64);
                break;
        }
    }

    private static long? AsInt64(Scalar value) => value.Kind switch
    {
        ScalarKind.Int => value.Int,
        ScalarKind.String when long.TryParse(value.Utf8, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) => v,
        _ => null,
    };

    private static void Set(ColumnarRows rows, int ordinal, ColumnType type, AnyValue value)
    {
        switch (type)
        {
            case ColumnType.Utf8:
                if (value.ValueCase == AnyValue.ValueOneofCase.StringValue) rows.String(ordinal, value.StringValue);
                else if (value.ValueCase == AnyValue.ValueOneofCase.IntValue) rows.String(ordinal, value.IntValue.ToString(CultureInfo.InvariantCulture));
                else if (value.ValueCase == AnyValue.ValueOneofCase.BoolValue) rows.String(ordinal, value.BoolValue ? "true" : "false");
                else if (value.ValueCase == AnyValue.ValueOneofCase.DoubleValue) rows.String(ordinal, value.DoubleValue.ToString("R", CultureInfo.InvariantCulture));
                break;
            case ColumnType.Int32:
                if (AsInt64(value) is { } i32 && i32 is >= int.MinValue and <= int.MaxValue) rows.Int32(ordinal, (int)i32);
                break;
            case ColumnType.Int64:
                if (AsInt64(value) is { } i64) rows.Int64(ordinal, i64);
                break;
        }
    }

    private static long? AsInt64(AnyValue value) => value.ValueCase switch
    {
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.StringValue when long.TryParse(value.StringValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) => v,
        _ => null,
    };
}
