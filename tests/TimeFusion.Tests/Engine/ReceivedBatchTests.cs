using Apache.Arrow;
using CsCheck;
using TimeFusion.Buffer;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Engine;

/// <summary>
/// A batch Orleans receives is decoded from a pinned array of its own (<see cref="PinnedIpcBytes"/>, from
/// <see cref="PinnedIpcBytesCodec.PinnedMinBytes"/> on), and the table keeps its rows there instead of copying them into
/// pinned memory; any other batch (built in this process, small, or a slice) is copied as before. Either way the rows come back exactly.
/// </summary>
public sealed class ReceivedBatchTests : EngineTestBase
{
    private static readonly TableId Id = new("p", "events");

    private static readonly Serializer Orleans = new ServiceCollection()
        .AddSerializer(b => b.AddAssembly(typeof(RecordBatchSurrogate).Assembly))
        .BuildServiceProvider().GetRequiredService<Serializer>();

    private static RecordBatch Received(RecordBatch batch) => Orleans.Deserialize<RecordBatch>(Orleans.SerializeToArray(batch))!;

    private static ValidatedBatch Validated(RecordBatch batch) => BatchValidator.Validate(batch, EngineTestKit.Schema, Id.Project, new IngestOptions());

    private static byte[]? ArrayOf(IArrowArray column) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(column.Data.Buffers[^1].Memory, out var segment) ? segment.Array : null;

    [Fact]
    public void A_received_batch_lives_in_its_pinned_block_and_a_local_one_or_a_slice_does_not()
    {
        var sent = EngineTestKit.Rows("r", 20_000);
        var received = Received(sent);
        Assert.True(ReceivedBatches.TryGetBlock(received, out var block));
        var kept = Validated(received).InBlock(block);
        Assert.True(kept.InPinnedBlock);
        Assert.Same(kept, kept.ToPinned()); // the tail keeps it as it is: no copy
        // The columns sent stay in the received block; project_id, filled in by the validator, moved to a pinned block of its own.
        Assert.Same(block, ArrayOf(kept.Batch.Column("id")));
        Assert.Same(block, ArrayOf(kept.Batch.Column("duration")));
        var project = ArrayOf(kept.Batch.Column(TableSchema.ProjectColumn));
        Assert.NotSame(block, project);
        var projects = (StringArray)kept.Batch.Column(TableSchema.ProjectColumn);
        Assert.All(Enumerable.Range(0, projects.Length), i => Assert.Equal(Id.Project, projects.GetString(i)));
        // A small stream is received into an ordinary array (and copied when kept).
        Assert.False(ReceivedBatches.TryGetBlock(Received(EngineTestKit.Rows("m", 20)), out _));

        // The batch as sent, and a slice of the received one, are not in a block of their own: copied when kept.
        Assert.False(ReceivedBatches.TryGetBlock(sent, out _));
        Assert.False(ReceivedBatches.TryGetBlock(received.Slice(10, 100), out _));

        // The same bytes as a byte[] field: the stream decodes to the sent rows.
        Assert.Equal(ArrowIpc.Write(sent.Schema, [sent]), ArrowIpc.Write(received.Schema, [received]));
    }

    [Fact]
    public void A_pinned_copy_is_kept_as_it_is_by_the_stage_after_the_one_that_made_it()
    {
        // The engine copies a local batch before logging it (BufferTable.PrepareForTail) and the tail's append takes
        // ToPinned again: the copy must come back as it is, not be copied a second time.
        var local = Validated(EngineTestKit.Rows("c", 30));
        Assert.False(local.InPinnedBlock);
        var copy = local.CopyPinned();
        Assert.True(copy.InPinnedBlock);
        Assert.Same(copy, copy.ToPinned());
        Assert.NotSame(ArrayOf(local.Batch.Column("id")), ArrayOf(copy.Batch.Column("id")));
        Assert.Equal(ArrowIpc.Write(local.Batch.Schema, [local.Batch]), ArrowIpc.Write(copy.Batch.Schema, [copy.Batch]));

        // Columns the batch left out (the validator's shared null columns) are not copied, nor rebuilt.
        var rows = EngineTestKit.Rows("n", 30);
        var narrow = Validated(new RecordBatch(new Schema([rows.Schema.GetFieldByName("id"), rows.Schema.GetFieldByName("timestamp")], null),
            [rows.Column("id"), rows.Column("timestamp")], 30));
        var narrowCopy = narrow.CopyPinned();
        Assert.Same(narrow.Batch.Column("service"), narrowCopy.Batch.Column("service"));
        Assert.Same(narrow.Batch.Column("duration"), narrowCopy.Batch.Column("duration"));
        Assert.NotSame(ArrayOf(narrow.Batch.Column("id")), ArrayOf(narrowCopy.Batch.Column("id")));
        Assert.Equal(ArrowIpc.Write(narrow.Batch.Schema, [narrow.Batch]), ArrowIpc.Write(narrowCopy.Batch.Schema, [narrowCopy.Batch]));
    }

    [Fact]
    public void A_pinned_copy_has_the_memory_estimate_of_its_source()
    {
        // The tail counts a batch at its reservation, taken for the batch before its pinned copy was made
        // (BufferTable.AddToTail): the two must measure alike, whatever the rows, slices and left-out columns.
        Gen.Int[1, 300].Select(Gen.Int[0, 299], Gen.Bool).Sample((rows, skip, narrow) =>
        {
            var all = EngineTestKit.Rows("e", rows);
            var batch = narrow
                ? new RecordBatch(new Schema([all.Schema.GetFieldByName("id"), all.Schema.GetFieldByName("timestamp")], null), [all.Column("id"), all.Column("timestamp")], rows)
                : all;
            if (skip < rows) batch = batch.Slice(skip, rows - skip);
            var source = Validated(batch);
            Assert.Equal(ArrowSizeEstimator.DataBytes(source.Batch), ArrowSizeEstimator.DataBytes(source.CopyPinned().Batch));
        });
    }

    [Fact]
    public async Task Received_and_local_batches_inserted_side_by_side_each_come_back_once_through_a_flush_and_reopening()
    {
        const int Writers = 4, PerWriter = 4, Rows = 8_000;
        long expectedSum = 0;
        await using (var engine = await Kit.OpenAsync(Id))
        {
            var lsns = await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
            {
                var mine = new List<long>();
                for (var i = 0; i < PerWriter; i++)
                {
                    var batch = EngineTestKit.Rows($"w{w}-{i}", Rows, durationBase: 10_000L * (w * PerWriter + i));
                    // Even writers send through Orleans (kept in place), odd ones insert their own batch (copied).
                    mine.Add(await engine.InsertAsync(w % 2 == 0 ? Received(batch) : batch));
                    if (w == 0 && i == 2) await engine.FlushAsync();
                }
                return mine;
            })));
            var all = lsns.SelectMany(l => l).ToList();
            Assert.Equal(all.Count, all.Distinct().Count());
            for (var k = 0; k < Writers * PerWriter; k++)
                expectedSum += Enumerable.Range(0, Rows).Sum(i => 10_000L * k + i);
            using var snapshot = await engine.OpenSnapshotAsync();
            Assert.Equal((Writers * PerWriter * (long)Rows, Writers * PerWriter * (long)Rows, expectedSum), await Kit.CountAsync(snapshot));
        }
        await using var reopened = await Kit.OpenAsync(Id);
        using var after = await reopened.OpenSnapshotAsync();
        Assert.Equal((Writers * PerWriter * (long)Rows, Writers * PerWriter * (long)Rows, expectedSum), await Kit.CountAsync(after));
    }
}
