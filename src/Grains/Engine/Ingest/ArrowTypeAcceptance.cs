using Apache.Arrow.Types;
using TimeFusion.Tables;

namespace TimeFusion.Ingest;

/// <summary>
/// Which incoming Arrow types a table column accepts. Strings may come as Utf8, LargeUtf8, Utf8View or
/// dictionary-encoded (DuckDB's conversion turns them all into VARCHAR); every other type must be the
/// table's canonical Arrow type, because DuckDB's appender would otherwise cast silently (text into
/// integers, naive timestamps into TIMESTAMPTZ).
/// </summary>
internal static class ArrowTypeAcceptance
{
    /// <summary>Whether a column of logical type <paramref name="column"/> accepts Arrow type <paramref name="arrow"/>.</summary>
    public static bool Accepts(ColumnType column, IArrowType arrow) => column switch
    {
        ColumnType.Utf8 or ColumnType.Json => IsStringLike(arrow, allowDictionary: true),
        ColumnType.Boolean => arrow is BooleanType,
        ColumnType.Int32 => arrow is Int32Type,
        ColumnType.Int64 => arrow is Int64Type,
        ColumnType.Float64 => arrow is DoubleType,
        ColumnType.Date => arrow is Date32Type,
        ColumnType.TimestampUs => arrow is TimestampType { Unit: TimeUnit.Microsecond } ts && IsUtc(ts.Timezone),
        ColumnType.Utf8List => arrow is ListType list && IsStringLike(list.ValueDataType, allowDictionary: false),
        ColumnType.Binary => arrow is BinaryType,
        _ => false,
    };

    /// <summary>
    /// Exactly the same Arrow type, as the canonical types a validated batch carries (no dictionaries, no nesting but a
    /// list): what lets a batch be taken as already validated (replay) or share one schema object (the buffer's tail).
    /// </summary>
    public static bool SameCanonicalType(IArrowType x, IArrowType y) => (x, y) switch
    {
        (TimestampType a, TimestampType b) => a.Unit == b.Unit && a.Timezone == b.Timezone,
        (ListType a, ListType b) => SameCanonicalType(a.ValueDataType, b.ValueDataType),
        (NestedType, _) or (_, NestedType) or (DictionaryType, _) or (_, DictionaryType) => false,
        _ => x.TypeId == y.TypeId,
    };

    private static bool IsStringLike(IArrowType type, bool allowDictionary) => type switch
    {
        StringType or LargeStringType or StringViewType => true,
        DictionaryType d when allowDictionary => d.IndexType is IntegerType && IsStringLike(d.ValueType, allowDictionary: false),
        _ => false,
    };

    private static bool IsUtc(string? timezone) =>
        timezone is not null && (timezone.Equals("UTC", StringComparison.OrdinalIgnoreCase)
                                 || timezone == "+00:00" || timezone == "Z" || timezone.Equals("Etc/UTC", StringComparison.OrdinalIgnoreCase));
}
