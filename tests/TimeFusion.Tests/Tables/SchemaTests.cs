using TimeFusion.Tables;

namespace TimeFusion.Tests.Tables;

public class SchemaTests
{
    [Fact]
    public void Otel_schema_has_required_columns_and_round_trips_through_delta_schema_string()
    {
        var schema = OtelLogsAndSpans.Schema;
        Assert.Equal(ColumnType.TimestampUs, schema.Find("timestamp")!.Type);
        Assert.False(schema.Find("timestamp")!.Nullable);
        Assert.Equal(ColumnType.Utf8List, schema.Find("hashes")!.Type);
        var back = ColumnTypeMapping.FromDeltaSchemaString(schema.ToDeltaSchemaString());
        Assert.Equal(schema.Columns, back);
    }

    [Fact]
    public void User_schema_gets_required_columns_and_rejects_wrong_types()
    {
        var s = TableSchema.Create("metrics", [new ColumnDefinition("value", ColumnType.Float64)]);
        Assert.Equal(["date", "timestamp", "value", "project_id"], s.Columns.Select(c => c.Name));
        var ex = Assert.Throws<SchemaException>(() => TableSchema.Create("m", [new ColumnDefinition("timestamp", ColumnType.Utf8)]));
        Assert.Contains("timestamp", ex.Message);
        Assert.Throws<SchemaException>(() => TableSchema.Create("m", [new ColumnDefinition("a", ColumnType.Utf8), new ColumnDefinition("a", ColumnType.Int32)]));
    }
}
