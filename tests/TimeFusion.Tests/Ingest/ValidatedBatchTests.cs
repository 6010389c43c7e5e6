using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Arrow;
using TimeFusion.Buffer;
using TimeFusion.Ingest;
using TimeFusion.Query.Execution;
using TimeFusion.Tables;
using TimeFusion.Tests.Buffer;
using Xunit;

namespace TimeFusion.Tests.Ingest;

/// <summary>
/// <see cref="ValidatedBatch"/>: only <see cref="BatchValidator"/> makes one, the stages that trust batches take only
/// that type, and the runtime checks that remain (which table, which layout) refuse cleanly.
/// </summary>
public sealed class ValidatedBatchTests
{
    private static StringArray BrokenStrings(int rows)
    {
        var offsets = new ArrowBuffer.Builder<int>();
        for (var i = 0; i <= rows; i++) offsets.Append(i * 1000);
        return new StringArray(new ArrayData(StringType.Default, rows, 0, 0, [ArrowBuffer.Empty, offsets.Build(), new ArrowBuffer(new byte[16])]));
    }

    [Fact]
    public void The_constructor_is_not_public()
    {
        Assert.Empty(typeof(ValidatedBatch).GetConstructors());
        Assert.True(typeof(ValidatedBatch).IsSealed);
    }

    [Fact]
    public void Ingest_validation_yields_a_batch_for_that_table()
    {
        using var batch = BufferTestDatabase.SmallBatch(5);
        var validated = BatchValidator.ValidateRows(batch, BufferTestDatabase.SmallSchema);
        Assert.Same(batch, validated.Batch);
        Assert.Equal(5, validated.Length);
        Assert.True(validated.Fits(BufferTestDatabase.SmallSchema));
        Assert.False(validated.Fits(OtelLogsAndSpans.Schema));
        Assert.False(BatchValidator.ValidateRelation(batch).Fits(BufferTestDatabase.SmallSchema));
    }

    [Fact]
    public async Task The_buffer_refuses_a_batch_validated_for_no_table_or_another_one()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, new TableId("p", "t"), BufferTestDatabase.SmallSchema, default);
        using var batch = BufferTestDatabase.SmallBatch(5);
        var e = await Assert.ThrowsAsync<SchemaException>(() => table.AppendAsync(BatchValidator.ValidateRelation(batch), 1, default));
        Assert.Contains("no table", e.Message);
        Assert.Equal(0, db.Budget.UsedBytes);
        await table.AppendAsync(BatchValidator.ValidateRows(batch, BufferTestDatabase.SmallSchema), 1, default);
        Assert.Equal(5, table.RowCount);
    }

    [Fact]
    public void Relations_are_checked_against_their_own_schema_including_layouts()
    {
        var schema = new Schema([new Field("s", StringType.Default, true)], null);
        Assert.Throws<ArrowValidationException>(() => BatchValidator.ValidateRelation(new RecordBatch(schema, [BrokenStrings(3)], 3)));
        // Same type id, other width: whoever reads by the schema would read past the buffer.
        var wide = new Schema([new Field("b", new FixedSizeBinaryType(16), true)], null);
        var narrow = ArrowArrayFactory.BuildArray(new ArrayData(new FixedSizeBinaryType(4), 2, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(new byte[8])]));
        Assert.Contains("does not match schema type",
            Assert.Throws<ArrowValidationException>(() => BatchValidator.ValidateRelation(new RecordBatch(wide, [narrow], 2))).Message);
    }

    [Fact]
    public async Task A_merge_refuses_a_malformed_partial_result_before_DuckDB_reads_it()
    {
        using var db = BufferDatabase.Open(new BufferOptions { MemoryLimitBytes = 256L << 20, SoftLimitBytes = 32L << 20, HardLimitBytes = 64L << 20, Threads = 1 });
        var executor = new MergeExecutor(db);
        var schema = new Schema([new Field("s", StringType.Default, true)], null);
        using var relation = new QueryBatches(schema, [new RecordBatch(schema, [BrokenStrings(3)], 3)]);
        var e = await Assert.ThrowsAsync<QueryExecutionException>(() =>
            executor.ExecuteAsync("SELECT count(*) FROM __partials", new Dictionary<string, QueryBatches> { ["__partials"] = relation }, default));
        Assert.Contains("malformed Arrow batch", e.Message);
        Assert.Contains("'s'", e.Message);
    }
}
