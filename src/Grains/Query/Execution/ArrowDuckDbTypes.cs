using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Execution;

/// <summary>
/// The DuckDB column type that holds an Arrow field as DuckDB's own Arrow import reads it (so that batches append to a
/// table of these types without casts): the types DuckDB itself produces in Arrow results, and a few more.
/// </summary>
internal static class ArrowDuckDbTypes
{
    private const string ExtensionNameKey = "ARROW:extension:name";

    /// <summary>The <c>CREATE TABLE</c> column list for a schema.</summary>
    /// <exception cref="QueryExecutionException">Duplicate column names, or a type DuckDB cannot hold (0A000).</exception>
    public static string ColumnList(Schema schema)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var columns = new List<string>(schema.FieldsList.Count);
        foreach (var f in schema.FieldsList)
        {
            if (!seen.Add(f.Name))
                throw new QueryExecutionException(SqlState.InternalError, $"a relation to merge has two columns named \"{f.Name}\"");
            columns.Add($"{SqlNames.Quote(f.Name)} {ToDuckDb(f)}");
        }
        if (columns.Count == 0)
            throw new QueryExecutionException(SqlState.InternalError, "a relation to merge has no columns");
        return string.Join(", ", columns);
    }

    /// <summary>The DuckDB type of a field.</summary>
    public static string ToDuckDb(Field field)
    {
        if (field.HasMetadata && field.Metadata.TryGetValue(ExtensionNameKey, out var extension))
        {
            switch (extension)
            {
                case "arrow.uuid" when field.DataType is FixedSizeBinaryType { ByteWidth: 16 }:
                    return "UUID";
                case "arrow.json" when field.DataType is StringType or LargeStringType or StringViewType:
                    return "JSON";
            }
        }
        return ToDuckDb(field.DataType, field.Name);
    }

    private static string ToDuckDb(IArrowType type, string column) => type switch
    {
        BooleanType => "BOOLEAN",
        Int8Type => "TINYINT",
        Int16Type => "SMALLINT",
        Int32Type => "INTEGER",
        Int64Type => "BIGINT",
        UInt8Type => "UTINYINT",
        UInt16Type => "USMALLINT",
        UInt32Type => "UINTEGER",
        UInt64Type => "UBIGINT",
        HalfFloatType or FloatType => "FLOAT",
        DoubleType => "DOUBLE",
        Decimal128Type d when d.Precision is >= 1 and <= 38 => $"DECIMAL({d.Precision.ToString(CultureInfo.InvariantCulture)}, {d.Scale.ToString(CultureInfo.InvariantCulture)})",
        StringType or LargeStringType or StringViewType => "VARCHAR",
        BinaryType or LargeBinaryType or BinaryViewType or FixedSizeBinaryType => "BLOB",
        Date32Type or Date64Type => "DATE",
        Time32Type or Time64Type { Unit: TimeUnit.Microsecond or TimeUnit.Millisecond or TimeUnit.Second } => "TIME",
        Time64Type => "TIME_NS",
        TimestampType { Timezone.Length: > 0 } => "TIMESTAMPTZ",
        TimestampType t => t.Unit switch
        {
            TimeUnit.Second => "TIMESTAMP_S",
            TimeUnit.Millisecond => "TIMESTAMP_MS",
            TimeUnit.Nanosecond => "TIMESTAMP_NS",
            _ => "TIMESTAMP",
        },
        IntervalType or DurationType => "INTERVAL",
        ListType l => ToDuckDb(l.ValueField) + "[]",
        LargeListType l => ToDuckDb(l.ValueField) + "[]",
        FixedSizeListType l => ToDuckDb(l.ValueField) + "[" + l.ListSize.ToString(CultureInfo.InvariantCulture) + "]",
        MapType m => $"MAP({ToDuckDb(m.KeyField)}, {ToDuckDb(m.ValueField)})",
        StructType s => "STRUCT(" + string.Join(", ", s.Fields.Select(f => $"{SqlNames.Quote(f.Name)} {ToDuckDb(f)}")) + ")",
        DictionaryType d => ToDuckDb(d.ValueType, column),
        _ => throw new QueryExecutionException(SqlState.FeatureNotSupported,
            $"column \"{column}\" has Arrow type {type.Name}, which cannot be merged"),
    };
}
