using System.Text.Json;
using Apache.Arrow.Types;

namespace TimeFusion.Tables;

/// <summary>
/// The one place that maps our logical column types to Arrow, Delta Lake and DuckDB types.
/// JSON columns are UTF-8 strings everywhere; their JSON-ness lives in the table schema.
/// </summary>
public static class ColumnTypeMapping
{
    /// <summary>The Arrow type a column has in the buffer and the WAL.</summary>
    public static IArrowType ToArrow(ColumnType type) => type switch
    {
        ColumnType.Utf8 or ColumnType.Json => StringType.Default,
        ColumnType.Boolean => BooleanType.Default,
        ColumnType.Int32 => Int32Type.Default,
        ColumnType.Int64 => Int64Type.Default,
        ColumnType.Float64 => DoubleType.Default,
        ColumnType.TimestampUs => new TimestampType(TimeUnit.Microsecond, "UTC"),
        ColumnType.Date => Date32Type.Default,
        ColumnType.Utf8List => new ListType(new Apache.Arrow.Field("item", StringType.Default, true)),
        ColumnType.Binary => BinaryType.Default,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The DuckDB type of a column in a buffer table.</summary>
    public static string ToDuckDb(ColumnType type) => type switch
    {
        ColumnType.Utf8 or ColumnType.Json => "VARCHAR",
        ColumnType.Boolean => "BOOLEAN",
        ColumnType.Int32 => "INTEGER",
        ColumnType.Int64 => "BIGINT",
        ColumnType.Float64 => "DOUBLE",
        ColumnType.TimestampUs => "TIMESTAMPTZ",
        ColumnType.Date => "DATE",
        ColumnType.Utf8List => "VARCHAR[]",
        ColumnType.Binary => "BLOB",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The Delta Lake primitive (or array) type JSON of a column type.</summary>
    public static object ToDelta(ColumnType type) => type switch
    {
        ColumnType.Utf8 or ColumnType.Json => "string",
        ColumnType.Boolean => "boolean",
        ColumnType.Int32 => "integer",
        ColumnType.Int64 => "long",
        ColumnType.Float64 => "double",
        ColumnType.TimestampUs => "timestamp",
        ColumnType.Date => "date",
        ColumnType.Binary => "binary",
        ColumnType.Utf8List => new Dictionary<string, object> { ["type"] = "array", ["elementType"] = "string", ["containsNull"] = true },
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The Delta <c>schemaString</c> of a column list.</summary>
    public static string ToDeltaSchemaString(IEnumerable<ColumnDefinition> columns)
    {
        var fields = columns.Select(c => new Dictionary<string, object>
        {
            ["name"] = c.Name,
            ["type"] = ToDelta(c.Type),
            ["nullable"] = c.Nullable,
            ["metadata"] = c.Type == ColumnType.Json
                ? new Dictionary<string, object> { ["timefusion.logicalType"] = "json" }
                : new Dictionary<string, object>(),
        });
        return JsonSerializer.Serialize(new Dictionary<string, object> { ["type"] = "struct", ["fields"] = fields.ToList() });
    }

    /// <summary>Parses a Delta <c>schemaString</c> back into columns (only the types we write).</summary>
    /// <exception cref="SchemaException">A type this engine does not support.</exception>
    public static IReadOnlyList<ColumnDefinition> FromDeltaSchemaString(string schemaString)
    {
        using var doc = JsonDocument.Parse(schemaString);
        var result = new List<ColumnDefinition>();
        foreach (var f in doc.RootElement.GetProperty("fields").EnumerateArray())
        {
            var name = f.GetProperty("name").GetString() ?? throw new SchemaException("Delta schema field without a name");
            var nullable = !f.TryGetProperty("nullable", out var n) || n.GetBoolean();
            var isJson = f.TryGetProperty("metadata", out var md) && md.ValueKind == JsonValueKind.Object
                && md.TryGetProperty("timefusion.logicalType", out var lt) && lt.GetString() == "json";
            var t = f.GetProperty("type");
            ColumnType type;
            if (t.ValueKind == JsonValueKind.String)
            {
                type = t.GetString() switch
                {
                    "string" => isJson ? ColumnType.Json : ColumnType.Utf8,
                    "boolean" => ColumnType.Boolean,
                    "integer" => ColumnType.Int32,
                    "long" => ColumnType.Int64,
                    "double" => ColumnType.Float64,
                    "timestamp" => ColumnType.TimestampUs,
                    "date" => ColumnType.Date,
                    "binary" => ColumnType.Binary,
                    var other => throw new SchemaException($"column '{name}': Delta type '{other}' is not supported"),
                };
            }
            else if (t.ValueKind == JsonValueKind.Object && t.GetProperty("type").GetString() == "array"
                     && t.GetProperty("elementType").ValueKind == JsonValueKind.String
                     && t.GetProperty("elementType").GetString() == "string")
            {
                type = ColumnType.Utf8List;
            }
            else
            {
                throw new SchemaException($"column '{name}': Delta type {t.GetRawText()} is not supported");
            }
            result.Add(new ColumnDefinition(name, type, nullable));
        }
        return result;
    }
}
