using System.Runtime;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Ingest;
using TimeFusion.Recovery;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Wal;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Recovery;

/// <summary>
/// Replay does each piece of work once: a logged batch in the table's shape is not validated again (only its structure
/// is checked), and a large entry is materialized once, into a pinned block of its own that the buffer's tail keeps as
/// it is. Entries spanning the reader's window edges, a torn entry at a window edge, a segment many times the window,
/// many tiny entries, and a batch logged before an ADD COLUMN all come back exactly.
/// </summary>
public sealed class ReplayWithoutCopiesTests : EngineTestBase
{
    private static readonly TableId Id = new("p", "events");
    private const int BigRows = 8_000;

    private string WalRoot => Path.Combine(Root, "wal");

    private static ValidatedBatch Validated(RecordBatch batch) => BatchValidator.Validate(batch, EngineTestKit.Schema, Id.Project, new IngestOptions());

    private static async Task<List<WalEntry>> ReadAllAsync(WriteAheadLog log)
    {
        var list = new List<WalEntry>();
        await foreach (var e in log.ReadAsync(0)) list.Add(e);
        return list;
    }

    [Fact]
    public async Task Large_entries_come_back_in_pinned_blocks_across_window_edges_and_a_torn_entry_at_a_window_edge_is_cut()
    {
        // A 4 KiB read window: every large entry spans hundreds of windows, the segment thousands.
        var options = new WalOptions { ReadChunkBytes = 4096 };
        int[] sizes = [BigRows, 1, 3, BigRows + 17, 2, 1, BigRows];
        var batches = sizes.Select((rows, i) => Validated(EngineTestKit.Rows($"w{i}", rows, durationBase: 1000L * i))).ToArray();
        await using (var log = await WriteAheadLog.OpenAsync(Id, Kit.Wal, options))
        {
            foreach (var b in batches) await log.AppendInsertAsync(b);
        }
        var segment = WalFiles.Segments(WalRoot, Id).Single();
        var full = new FileInfo(segment).Length;

        await using (var log = await WriteAheadLog.OpenAsync(Id, Kit.Wal, options))
        {
            var entries = await ReadAllAsync(log);
            Assert.Equal(sizes.Length, entries.Count);
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                // Small batches leave their null columns out and come back in the projected stream form, the large ones as
                // the complete stream the IPC writer writes.
                if (WalProjectedInserts.IsStreamForm(entry.Payload.Span))
                {
                    Assert.True(sizes[i] < BigRows);
                    using var decoded = WalPayloads.DecodeInsert(entry.Payload);
                    Assert.Equal(WalTestData.Render(batches[i].Batch), WalTestData.Render(decoded));
                }
                else
                {
                    Assert.Equal(WalPayloads.EncodeInsert(batches[i].Batch), entry.Payload.ToArray());
                }
                var large = entry.Payload.Length >= WalSegmentSchemas.PinnedBytes;
                Assert.Equal(sizes[i] >= BigRows, large); // the sizes above straddle the threshold as intended
                if (large)
                {
                    Assert.NotNull(entry.PinnedBlock);
                    Assert.Equal(entry.PinnedBlock!.Length, entry.Payload.Length);
                    Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(entry.Payload, out var segmentOf) && ReferenceEquals(segmentOf.Array, entry.PinnedBlock));
                }
                else
                {
                    Assert.Null(entry.PinnedBlock);
                }
            }
        }

        // Cut the last (large) entry at a window edge inside it: a torn tail, cut on open; the rest comes back.
        var lastStart = full - WalEntryFraming.HeaderBytes - FrameEnvelopeLength(segment, sizes.Length - 1);
        var cut = (lastStart / 4096 + 2) * 4096;
        Assert.InRange(cut, lastStart + 1, full - 1);
        await using (var stream = new FileStream(segment, FileMode.Open)) stream.SetLength(cut);
        await using (var log = await WriteAheadLog.OpenAsync(Id, Kit.Wal, options))
        {
            Assert.NotNull(log.RecoveryStats.TornTail);
            var entries = await ReadAllAsync(log);
            Assert.Equal(sizes.Length - 1, entries.Count);
            using var decoded = WalPayloads.DecodeInsert(entries[^1].Payload);
            Assert.Equal(WalTestData.Render(batches[^2].Batch), WalTestData.Render(decoded));
        }
    }

    /// <summary>The envelope length of the <paramref name="index"/>-th frame of a segment file.</summary>
    private static int FrameEnvelopeLength(string segment, int index)
    {
        var bytes = File.ReadAllBytes(segment);
        var at = 0;
        for (var i = 0; ; i++)
        {
            var (length, _) = WalEntryFraming.ReadHeader(bytes.AsSpan(at));
            if (i == index) return (int)length;
            at += WalEntryFraming.HeaderBytes + (int)length;
        }
    }

    [Fact]
    public async Task A_replayed_large_entry_is_kept_by_the_tail_in_its_block_and_a_small_one_is_copied()
    {
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await engine.InsertAsync(EngineTestKit.Rows("big", BigRows));
            await engine.InsertAsync(EngineTestKit.Rows("small", 10));
        }
        List<WalEntry> entries;
        await using (var log = await WriteAheadLog.OpenAsync(Id, Kit.Wal))
            entries = await ReadAllAsync(log);
        await using var reopened = await Kit.OpenAsync(Id);
        var target = (WalReplayer.ITarget)reopened;

        var big = target.DecodeInsert(entries[0].Lsn, entries[0].Payload, entries[0].PinnedBlock);
        Assert.True(big.InPinnedBlock);
        Assert.Same(big, big.ToPinned()); // kept as it is: no second copy
        Assert.Equal(BigRows, big.Length);

        var small = target.DecodeInsert(entries[1].Lsn, entries[1].Payload, entries[1].PinnedBlock);
        Assert.False(small.InPinnedBlock);
        var copy = small.ToPinned();
        Assert.NotSame(small, copy);
        Assert.Equal(10, copy.Length);
    }

    [Fact]
    public void A_block_is_kept_only_when_every_buffer_is_an_aligned_slice_of_it_and_the_data_fills_half_of_it()
    {
        var payload = WalPayloads.EncodeInsert(Validated(EngineTestKit.Rows("b", BigRows)).Batch);
        var block = GC.AllocateUninitializedArray<byte>(payload.Length, pinned: true);
        payload.CopyTo(block, 0);
        var logged = BatchValidator.ValidateLogged(WalPayloads.ReadInsert(block), EngineTestKit.Schema);
        Assert.NotNull(logged);
        Assert.True(logged!.InBlock(block).InPinnedBlock);

        // The batch's buffers live in another array than the one named: not kept.
        var other = GC.AllocateUninitializedArray<byte>(payload.Length, pinned: true);
        Assert.False(logged.InBlock(other).InPinnedBlock);

        // A block far larger than the batch's data: a copy holds less memory than keeping the block.
        var wide = GC.AllocateUninitializedArray<byte>(payload.Length * 3, pinned: true);
        payload.CopyTo(wide, 0);
        var inWide = BatchValidator.ValidateLogged(WalPayloads.ReadInsert(wide.AsMemory(0, payload.Length)), EngineTestKit.Schema)!;
        Assert.False(inWide.InBlock(wide).InPinnedBlock);

        // Shifted by 4 bytes: buffers no longer 8-byte aligned in the block.
        var shifted = GC.AllocateUninitializedArray<byte>(payload.Length + 4, pinned: true);
        payload.CopyTo(shifted, 4);
        var inShifted = BatchValidator.ValidateLogged(WalPayloads.ReadInsert(shifted.AsMemory(4)), EngineTestKit.Schema);
        Assert.False(inShifted is not null && inShifted.InBlock(shifted).InPinnedBlock);
    }

    [Fact]
    public void A_logged_batch_in_the_tables_shape_is_passed_through_and_another_shape_is_left_to_the_full_validator()
    {
        var canonical = Validated(EngineTestKit.Rows("c", 20)).Batch;
        var logged = BatchValidator.ValidateLogged(canonical, EngineTestKit.Schema);
        Assert.NotNull(logged);
        for (var i = 0; i < canonical.ColumnCount; i++) Assert.Same(canonical.Column(i), logged!.Batch.Column(i));
        Assert.True(logged!.Fits(EngineTestKit.Schema));

        // As a client sends it (no project_id, no date): not what the validator logs.
        Assert.Null(BatchValidator.ValidateLogged(EngineTestKit.Rows("c", 20), EngineTestKit.Schema));
        // A column of another type than the table's canonical one.
        var fields = canonical.Schema.FieldsList.ToList();
        var durationIndex = fields.FindIndex(f => f.Name == "duration");
        var asInt32 = new Int32Array.Builder().AppendRange(Enumerable.Range(0, 20)).Build();
        var retyped = new RecordBatch(new Schema(fields.Select((f, i) => i == durationIndex ? new Field("duration", Int32Type.Default, true) : f), null),
            Enumerable.Range(0, canonical.ColumnCount).Select(i => i == durationIndex ? asInt32 : canonical.Column(i)), 20);
        Assert.Null(BatchValidator.ValidateLogged(retyped, EngineTestKit.Schema));

        // A null in a NOT NULL column is refused (a damaged entry, quarantined by the replayer).
        var idIndex = fields.FindIndex(f => f.Name == "id");
        var ids = new StringArray.Builder();
        for (var i = 0; i < 20; i++)
        {
            if (i == 7) ids.AppendNull();
            else ids.Append($"c-{i}");
        }
        var withNull = new RecordBatch(canonical.Schema,
            Enumerable.Range(0, canonical.ColumnCount).Select(i => i == idIndex ? ids.Build() : canonical.Column(i)), 20);
        Assert.Throws<SchemaException>(() => BatchValidator.ValidateLogged(withNull, EngineTestKit.Schema));
    }

    [Fact]
    public async Task Large_and_many_tiny_entries_with_a_delete_between_replay_exactly_and_survive_compacting_collections_and_a_flush()
    {
        const int tiny = 400;
        long expectedRows = 0, expectedSum = 0;
        await using (var engine = await Kit.OpenAsync(Id))
        {
            for (var i = 0; i < 3; i++)
            {
                await engine.InsertAsync(EngineTestKit.Rows($"big{i}", BigRows, durationBase: 1_000_000L * i));
                expectedRows += BigRows;
                expectedSum += BigRows * 1_000_000L * i + BigRows * (BigRows - 1L) / 2;
            }
            await engine.DeleteAsync("id = 'big1-5'");
            expectedRows--;
            expectedSum -= 1_000_000L + 5;
            for (var i = 0; i < tiny; i++)
            {
                await engine.InsertAsync(EngineTestKit.Rows($"t{i}", 1, durationBase: 7));
                expectedRows++;
                expectedSum += 7;
            }
            await engine.InsertAsync(EngineTestKit.Rows("big3", BigRows, durationBase: 5_000_000L));
            expectedRows += BigRows;
            expectedSum += BigRows * 5_000_000L + BigRows * (BigRows - 1L) / 2;
        }

        await using (var engine = await Kit.OpenAsync(Id))
        {
            Assert.Equal(3 + 1 + tiny + 1, engine.Recovery.ReplayedEntries);
            for (var round = 0; round < 2; round++)
            {
                using (var s = engine.OpenSnapshot())
                {
                    var (rows, distinct, sum) = await Kit.CountAsync(s);
                    Assert.Equal((expectedRows, expectedRows, expectedSum), (rows, distinct, sum));
                }
                // The kept blocks are on the pinned heap: a compacting collection moves nothing DuckDB reads.
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            }
            await engine.FlushAsync();
        }

        await using var reopened = await Kit.OpenAsync(Id);
        Assert.Equal(0, reopened.Recovery.ReplayedEntries);
        using var snapshot = reopened.OpenSnapshot();
        Assert.Equal((expectedRows, expectedRows, expectedSum), await Kit.CountAsync(snapshot));
    }
    [Fact]
    public async Task Entries_logged_before_an_added_column_go_through_the_full_validator_and_replay_with_nulls_in_it()
    {
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await engine.InsertAsync(EngineTestKit.Rows("old", BigRows));
            await engine.InsertAsync(EngineTestKit.Rows("old-small", 5));
        }
        // The table gained a nullable column since: the logged batches are not in its shape any more.
        var wider = TableSchema.Create(EngineTestKit.Schema.Name, [.. EngineTestKit.Schema.Columns.Where(c => c.Name is not (TableSchema.DateColumn or TableSchema.ProjectColumn or TableSchema.TimestampColumn)),
            new ColumnDefinition("region", ColumnType.Utf8)]);
        List<WalEntry> entries;
        await using (var log = await WriteAheadLog.OpenAsync(Id, Kit.Wal))
            entries = await ReadAllAsync(log);
        Assert.Null(BatchValidator.ValidateLogged(WalPayloads.ReadInsert(entries[0].Payload), wider));

        await using var reopened = await TimeFusion.Engine.TableEngine.OpenAsync(Id, wider, Kit.Services);
        Assert.Equal(2, reopened.Recovery.ReplayedEntries);
        Assert.Equal(0, reopened.Recovery.QuarantinedEntries);
        Assert.Equal(BigRows + 5, reopened.BufferedRows);
        var replayed = ((WalReplayer.ITarget)reopened).DecodeInsert(entries[0].Lsn, entries[0].Payload, entries[0].PinnedBlock);
        Assert.True(replayed.Fits(wider));
        Assert.Equal(BigRows, replayed.Batch.Column(wider.IndexOf("region")).NullCount);
    }
}
