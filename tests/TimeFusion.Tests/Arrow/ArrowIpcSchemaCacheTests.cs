using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Arrow;

/// <summary>Decoding reuses a schema parsed before from the same bytes, and never mixes up schemas that differ in anything.</summary>
public sealed class ArrowIpcSchemaCacheTests
{
    private static RecordBatch Batch(string field, bool nullable, string? metadata, params long[] values)
    {
        var schema = new Schema([new Field(field, Int64Type.Default, nullable)],
            metadata is null ? null : new Dictionary<string, string> { ["note"] = metadata });
        return new RecordBatch(schema, [new Int64Array.Builder().AppendRange(values).Build()], values.Length);
    }

    [Fact]
    public void The_same_schema_bytes_give_the_same_schema_and_each_stream_its_own_rows()
    {
        var (s1, b1) = ArrowIpc.Read(ArrowIpc.Write(Batch("n", true, "x", 1, 2).Schema, [Batch("n", true, "x", 1, 2)]));
        var (s2, b2) = ArrowIpc.Read(ArrowIpc.Write(Batch("n", true, "x", 7).Schema, [Batch("n", true, "x", 7), Batch("n", true, "x", 8, 9)]));
        Assert.Same(s1, s2);
        Assert.Equal([1L, 2L], ((Int64Array)b1[0].Column(0)).Values.ToArray());
        Assert.Equal([7L], ((Int64Array)b2[0].Column(0)).Values.ToArray());
        Assert.Equal([8L, 9L], ((Int64Array)b2[1].Column(0)).Values.ToArray());
    }

    [Theory]
    [InlineData("m", true, "x")]
    [InlineData("n", false, "x")]
    [InlineData("n", true, "y")]
    [InlineData("n", true, null)]
    public void Schemas_that_differ_in_name_nullability_or_metadata_are_not_confused(string field, bool nullable, string? metadata)
    {
        var (baseline, _) = ArrowIpc.Read(ArrowIpc.Write(Batch("n", true, "x", 1).Schema, [Batch("n", true, "x", 1)]));
        var other = Batch(field, nullable, metadata, 5);
        var (schema, batches) = ArrowIpc.Read(ArrowIpc.Write(other.Schema, [other]));
        Assert.NotSame(baseline, schema);
        Assert.Equal(field, schema.FieldsList[0].Name);
        Assert.Equal(nullable, schema.FieldsList[0].IsNullable);
        Assert.Equal(metadata, schema.HasMetadata ? schema.Metadata["note"] : null);
        Assert.Equal(5L, ((Int64Array)batches[0].Column(0)).GetValue(0));
    }
}
