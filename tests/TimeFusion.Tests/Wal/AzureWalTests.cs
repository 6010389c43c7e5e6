using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

[Collection(AzuriteCollection.Name)]
public sealed class AzureWalTests(AzuriteFixture azurite)
{
    private static readonly TableId Id = new("proj/ü", "otel_logs_and_spans");

    private async Task<BlobContainerClient> NewContainer()
    {
        var container = new BlobContainerClient(azurite.ConnectionString, AzuriteFixture.NewContainerName());
        await container.CreateAsync();
        return container;
    }

    private static async Task<List<WalEntry>> ReadAll(WriteAheadLog log, long after = 0)
    {
        var list = new List<WalEntry>();
        await foreach (var e in log.ReadAsync(after)) list.Add(e);
        return list;
    }

    private static async Task<List<BlobItem>> Segments(BlobContainerClient container) =>
        await container.GetBlobsAsync(BlobTraits.None, BlobStates.None, StoragePathNames.WalRoot(Id) + "/", default).Where(b => b.Name.EndsWith(".wal")).ToListAsync();

    [Fact]
    public async Task Entries_round_trip_and_a_reopened_log_keeps_appending_to_the_same_blob()
    {
        var container = await NewContainer();
        var storage = new AzureAppendBlobWalStorage(container, "silo-a");
        var batch = WalTestData.ComplexBatch(50, 11);
        var update = new DmlRecord("id = 3", [new("name", "'x'")]);
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            Assert.Equal(1, await log.AppendInsertAsync(batch));
            Assert.Equal(2, await log.AppendDmlAsync(WalOperation.Update, update));
        }
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            Assert.Equal(2, log.LastLsn);
            Assert.Equal(3, await log.AppendAsync(WalOperation.Delete, WalPayloads.EncodeDml(new DmlRecord("true", []))));
            var entries = await ReadAll(log);
            Assert.Equal([1L, 2, 3], entries.Select(e => e.Lsn));
            using var decoded = WalPayloads.DecodeInsert(entries[0].Payload);
            Assert.Equal(WalTestData.Render(batch), WalTestData.Render(decoded));
            Assert.Equal(update.Assignments, WalPayloads.DecodeDml(entries[1].Payload).Assignments);
            Assert.Equal(Id.Project, entries[2].Project);
        }
        var blobs = await container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "silo-a/", default).ToListAsync();
        Assert.Single(blobs, b => b.Name.EndsWith(".wal"));
        Assert.Single(blobs, b => b.Name.EndsWith("identity.json"));
    }

    [Fact]
    public async Task Large_entries_and_group_commits_are_split_into_blocks_with_framing_intact()
    {
        var container = await NewContainer();
        var storage = new AzureAppendBlobWalStorage(container, options: new AzureWalStorageOptions { MaxAppendBlockBytes = 64 * 1024 });
        var big = new byte[300_000];
        new Random(1).NextBytes(big);
        var small = Enumerable.Range(0, 200).Select(i => Enumerable.Repeat((byte)i, 1000 + i).ToArray()).ToList();
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            await log.AppendAsync(WalOperation.Insert, big);
            await Task.WhenAll(small.Select(p => log.AppendAsync(WalOperation.Insert, p).AsTask()));
        }
        var segment = Assert.Single(await Segments(container));
        var properties = await container.GetAppendBlobClient(segment.Name).GetPropertiesAsync();
        Assert.True(properties.Value.BlobCommittedBlockCount >= 5 + 3, $"{properties.Value.BlobCommittedBlockCount} blocks");

        await using var reopened = await WriteAheadLog.OpenAsync(Id, storage);
        var entries = await ReadAll(reopened);
        Assert.Equal(201, entries.Count);
        Assert.Equal(big, entries[0].Payload.ToArray());
        Assert.Equal(small.Select(Convert.ToHexString).Order(), entries.Skip(1).Select(e => Convert.ToHexString(e.Payload.Span)).Order());
    }

    [Fact]
    public async Task A_multi_megabyte_entry_is_split_at_the_default_4_MiB_block_limit()
    {
        var container = await NewContainer();
        var storage = new AzureAppendBlobWalStorage(container);
        var big = new byte[9 * 1024 * 1024];
        new Random(2).NextBytes(big);
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage)) await log.AppendAsync(WalOperation.Insert, big);
        var segment = Assert.Single(await Segments(container));
        Assert.Equal(3, (await container.GetAppendBlobClient(segment.Name).GetPropertiesAsync()).Value.BlobCommittedBlockCount);
        await using var reopened = await WriteAheadLog.OpenAsync(Id, storage);
        Assert.Equal(big, Assert.Single(await ReadAll(reopened)).Payload.ToArray());
    }

    [Fact]
    public async Task Segments_roll_by_block_count_and_truncation_keeps_lsns_monotonic()
    {
        var container = await NewContainer();
        var storage = new AzureAppendBlobWalStorage(container, options: new AzureWalStorageOptions { MaxBlocksPerSegment = 3 });
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            for (var i = 0; i < 10; i++) await log.AppendAsync(WalOperation.Insert, new byte[] { (byte)i });
            Assert.Equal(4, (await Segments(container)).Count);
            await log.TruncateAsync(7);
            Assert.Equal([7L, 8, 9, 10], (await ReadAll(log)).Select(e => e.Lsn));
            await log.TruncateAsync(10);
            Assert.Empty(await ReadAll(log));
        }
        var remaining = Assert.Single(await Segments(container));
        Assert.EndsWith("00000000000000000011.wal", remaining.Name);
        await using var reopened = await WriteAheadLog.OpenAsync(Id, storage);
        Assert.Equal(10, reopened.LastLsn);
        Assert.Equal(11, await reopened.AppendAsync(WalOperation.Insert, new byte[] { 11 }));
    }

    [Fact]
    public async Task A_second_writer_appending_to_the_segment_is_detected()
    {
        var container = await NewContainer();
        var storage = new AzureAppendBlobWalStorage(container);
        await using var first = await WriteAheadLog.OpenAsync(Id, storage);
        Assert.Equal(1, await first.AppendAsync(WalOperation.Insert, new byte[] { 1 }));

        // A second silo takes over the same table (e.g. after a false failure detection) and appends.
        await using (var second = await WriteAheadLog.OpenAsync(Id, storage))
        {
            Assert.Equal(2, await second.AppendAsync(WalOperation.Insert, new byte[] { 2 }));
        }
        var e = await Assert.ThrowsAsync<WalFaultedException>(async () => await first.AppendAsync(WalOperation.Insert, new byte[] { 3 }));
        Assert.IsType<WalConflictException>(e.InnerException);
        Assert.Contains("another writer", e.InnerException!.Message);
        await Assert.ThrowsAsync<WalFaultedException>(async () => await first.AppendAsync(WalOperation.Insert, new byte[] { 4 }));

        await using var reader = await WriteAheadLog.OpenAsync(Id, storage);
        Assert.Equal([(1L, (byte)1), (2L, (byte)2)], (await ReadAll(reader)).Select(x => (x.Lsn, x.Payload.Span[0])));
    }

    [Fact]
    public async Task A_writer_frozen_after_renewing_its_lease_cannot_start_a_segment_behind_a_new_owner()
    {
        // Writer A rolls to segment 3: it renews its lease on segment 1 (still its own), then — as if frozen right there —
        // writer B takes the log over (breaks the lease, lists segment 1 only, appends LSN 3 into it) before A's request
        // creating segment 3 goes out. A must not write LSN 3 a second time into a segment B does not know of.
        var container = await NewContainer();
        var segment3 = WalSegmentName.Format(3);
        WriteAheadLog? ownerB = null;
        var takeOver = new BeforeRequestPolicy(r => r.Method == Azure.Core.RequestMethod.Put && r.Uri.Path.EndsWith("/" + segment3, StringComparison.Ordinal)
            && !r.Uri.Query.Contains("comp=", StringComparison.Ordinal), async () =>
        {
            ownerB = await WriteAheadLog.OpenAsync(Id, new AzureAppendBlobWalStorage(container));
            Assert.Equal(3, await ownerB.AppendAsync(WalOperation.Insert, "b"u8.ToArray()));
        });
        var options = new BlobClientOptions();
        options.AddPolicy(takeOver, Azure.Core.HttpPipelinePosition.PerCall);
        var containerA = new BlobServiceClient(azurite.ConnectionString, options).GetBlobContainerClient(container.Name);
        await using var ownerA = await WriteAheadLog.OpenAsync(Id, new AzureAppendBlobWalStorage(containerA, options: new AzureWalStorageOptions { MaxBlocksPerSegment = 2 }));
        Assert.Equal(1, await ownerA.AppendAsync(WalOperation.Insert, "1"u8.ToArray()));
        Assert.Equal(2, await ownerA.AppendAsync(WalOperation.Insert, "2"u8.ToArray()));

        var refused = await Assert.ThrowsAsync<WalFaultedException>(async () => await ownerA.AppendAsync(WalOperation.Insert, "a"u8.ToArray()));
        Assert.IsType<WalConflictException>(refused.InnerException);
        Assert.True(takeOver.Fired, "the take-over did not run");
        await using (ownerB) Assert.NotNull(ownerB);
        // A removed the segment it created but could not own, and the log reads as B wrote it.
        Assert.DoesNotContain(await Segments(container), b => b.Name.EndsWith(segment3, StringComparison.Ordinal));
        await using var reader = await WriteAheadLog.OpenAsync(Id, new AzureAppendBlobWalStorage(container));
        Assert.Equal([(1L, (byte)'1'), (2L, (byte)'2'), (3L, (byte)'b')], (await ReadAll(reader)).Select(x => (x.Lsn, x.Payload.Span[0])));
    }

    [Fact]
    public async Task An_empty_segment_left_between_others_is_ignored_on_recovery()
    {
        // What a writer killed between creating a segment and finding it no longer owns the log leaves behind.
        var container = await NewContainer();
        var storage = new AzureAppendBlobWalStorage(container, options: new AzureWalStorageOptions { MaxBlocksPerSegment = 3 });
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            for (var i = 1; i <= 4; i++) await log.AppendAsync(WalOperation.Insert, new[] { (byte)i });
        }
        Assert.Equal(2, (await Segments(container)).Count); // LSNs 1-3, then 4
        await container.GetAppendBlobClient(StoragePathNames.WalRoot(Id) + "/" + WalSegmentName.Format(2)).CreateAsync();
        await using var reopened = await WriteAheadLog.OpenAsync(Id, storage);
        Assert.Equal([1L, 2, 3, 4], (await ReadAll(reopened)).Select(e => e.Lsn));
        Assert.Equal(5, await reopened.AppendAsync(WalOperation.Insert, new byte[] { 5 }));
    }

    /// <summary>Runs <paramref name="before"/> once, before the first request matching <paramref name="match"/> is sent.</summary>
    private sealed class BeforeRequestPolicy(Func<Azure.Core.Request, bool> match, Func<Task> before) : Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private int _fired;

        public bool Fired => _fired == 1;

        public override async ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            if (match(message.Request) && Interlocked.Exchange(ref _fired, 1) == 0) await before();
            await ProcessNextAsync(message, pipeline);
        }

        public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("asynchronous only");
    }

    [Fact]
    public async Task A_torn_tail_in_an_append_blob_is_fenced_off_by_metadata_and_a_new_segment()
    {
        var container = await NewContainer();
        var storage = new AzureAppendBlobWalStorage(container);
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            for (var i = 1; i <= 3; i++) await log.AppendAsync(WalOperation.Insert, new byte[] { (byte)i });
        }
        var first = Assert.Single(await Segments(container));
        // An interrupted multi-block write left the start of a frame.
        using (var partial = new MemoryStream(new byte[] { 200, 0, 0, 0, 1, 2, 3, 4, 0x96, 1 }))
            await container.GetAppendBlobClient(first.Name).AppendBlockAsync(partial);

        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            Assert.NotNull(log.RecoveryStats.TornTail);
            Assert.Equal(4, await log.AppendAsync(WalOperation.Insert, new byte[] { 4 }));
        }
        Assert.Equal(2, (await Segments(container)).Count);
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            Assert.Null(log.RecoveryStats.TornTail);
            Assert.Empty(log.RecoveryStats.CorruptEntries);
            Assert.Equal([1L, 2, 3, 4], (await ReadAll(log)).Select(e => e.Lsn));
        }
    }

    [Fact]
    public async Task A_last_segment_holding_only_a_torn_write_is_replaced_under_its_name()
    {
        var container = await NewContainer();
        var storage = new AzureAppendBlobWalStorage(container);
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            await log.AppendAsync(WalOperation.Insert, new byte[] { 1 });
            await log.TruncateAsync(1);
        }
        var empty = Assert.Single(await Segments(container));
        using (var partial = new MemoryStream(new byte[] { 99, 0, 0, 0, 9 }))
            await container.GetAppendBlobClient(empty.Name).AppendBlockAsync(partial);
        await using var reopened = await WriteAheadLog.OpenAsync(Id, storage);
        Assert.Equal(1, reopened.LastLsn);
        Assert.Equal(2, await reopened.AppendAsync(WalOperation.Insert, new byte[] { 2 }));
        Assert.Equal(empty.Name, Assert.Single(await Segments(container)).Name);
    }
}
