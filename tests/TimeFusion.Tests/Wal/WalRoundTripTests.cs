using Apache.Arrow;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

public sealed class WalRoundTripTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-1", "otel_logs_and_spans");

    public void Dispose() => _dir.Dispose();

    private LocalWalStorage Storage => new(_dir.Path);

    private static async Task<List<WalEntry>> ReadAll(WriteAheadLog log, long after = 0)
    {
        var list = new List<WalEntry>();
        await foreach (var e in log.ReadAsync(after)) list.Add(e);
        return list;
    }

    [Fact]
    public async Task Inserts_deletes_updates_and_a_schema_change_replay_in_order_after_reopen()
    {
        var batches = new List<RecordBatch> { WalTestData.ComplexBatch(200, 1), WalTestData.ComplexBatch(1, 2), WalTestData.ComplexBatch(0, 3) };
        var evolved = WalTestData.EvolvedBatch(17);
        var delete = new DmlRecord("service = 'a' AND level = 'error'", []);
        var update = new DmlRecord("id > 10", [new("hashes", "list_append(hashes, 'x')"), new("name", "'renamed ü'")]);
        var lsns = new List<long>();
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage))
        {
            Assert.Equal(0, log.LastLsn);
            foreach (var b in batches) lsns.Add(await log.AppendInsertAsync(b));
            lsns.Add(await log.AppendDmlAsync(WalOperation.Delete, delete));
            lsns.Add(await log.AppendInsertAsync(evolved));
            lsns.Add(await log.AppendDmlAsync(WalOperation.Update, update));
            Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), lsns);
            Assert.Equal(6, log.LastLsn);
        }

        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage);
        Assert.Equal(6, reopened.LastLsn);
        Assert.Equal(6, reopened.RecoveryStats.Entries);
        Assert.Null(reopened.RecoveryStats.TornTail);
        var entries = await ReadAll(reopened);
        Assert.Equal(lsns, entries.Select(e => e.Lsn));
        Assert.All(entries, e =>
        {
            Assert.Equal(1, e.FormatVersion);
            Assert.Equal(Id.Project, e.Project);
            Assert.Equal(Id.Table, e.Table);
        });
        Assert.Equal(
            [WalOperation.Insert, WalOperation.Insert, WalOperation.Insert, WalOperation.Delete, WalOperation.Insert, WalOperation.Update],
            entries.Select(e => e.Operation));
        for (var i = 0; i < 3; i++)
        {
            using var decoded = WalPayloads.DecodeInsert(entries[i].Payload);
            Assert.Equal(WalTestData.Render(batches[i]), WalTestData.Render(decoded));
        }
        using (var decodedEvolved = WalPayloads.DecodeInsert(entries[4].Payload))
        {
            Assert.Equal(WalTestData.Render(evolved), WalTestData.Render(decodedEvolved));
        }
        Assert.Equal(delete.Predicate, WalPayloads.DecodeDml(entries[3].Payload).Predicate);
        Assert.Empty(WalPayloads.DecodeDml(entries[3].Payload).Assignments);
        var decodedUpdate = WalPayloads.DecodeDml(entries[5].Payload);
        Assert.Equal(update.Predicate, decodedUpdate.Predicate);
        Assert.Equal(update.Assignments, decodedUpdate.Assignments);

        // Replay from an LSN returns exactly the later entries.
        Assert.Equal([4L, 5, 6], (await ReadAll(reopened, 3)).Select(e => e.Lsn));
        Assert.Empty(await ReadAll(reopened, 6));
        Assert.Equal(7, await reopened.AppendAsync(WalOperation.Delete, WalPayloads.EncodeDml(delete)));
    }

    [Fact]
    public async Task Entries_spread_over_many_segments_replay_from_any_lsn()
    {
        var options = new WalOptions { SegmentSizeBytes = 4096 };
        var payloads = Enumerable.Range(1, 120).Select(i => Enumerable.Range(0, 100 + i * 7).Select(b => (byte)(b * i)).ToArray()).ToList();
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage, options))
        {
            foreach (var p in payloads) await log.AppendAsync(WalOperation.Insert, p);
            Assert.True(log.Statistics.SegmentsCreated > 10, $"segments: {log.Statistics.SegmentsCreated}");
        }
        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage, options);
        Assert.True(reopened.RecoveryStats.Segments > 10);
        foreach (var after in new long[] { 0, 1, 37, 64, 119, 120 })
        {
            var entries = await ReadAll(reopened, after);
            Assert.Equal(Enumerable.Range((int)after + 1, 120 - (int)after).Select(i => (long)i), entries.Select(e => e.Lsn));
            Assert.All(entries, e => Assert.Equal(payloads[(int)e.Lsn - 1], e.Payload.ToArray()));
        }
        var files = Directory.GetFiles(Path.Combine(_dir.Path, StoragePaths(Id)), "*.wal");
        Assert.All(files, f => Assert.InRange(new FileInfo(f).Length, 1, 4096));
    }

    [Fact]
    public async Task An_entry_larger_than_a_segment_gets_a_segment_of_its_own()
    {
        var options = new WalOptions { SegmentSizeBytes = 4096 };
        var big = new byte[100_000];
        new Random(5).NextBytes(big);
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage, options))
        {
            await log.AppendAsync(WalOperation.Insert, new byte[10]);
            await log.AppendAsync(WalOperation.Insert, big);
            await log.AppendAsync(WalOperation.Insert, new byte[20]);
        }
        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage, options);
        var entries = await ReadAll(reopened);
        Assert.Equal(3, entries.Count);
        Assert.Equal(big, entries[1].Payload.ToArray());
        Assert.Equal(3, reopened.RecoveryStats.Segments);
    }

    [Fact]
    public async Task Payloads_beyond_the_entry_cap_are_refused_before_writing()
    {
        var options = new WalOptions { MaxEntryBytes = 64 * 1024 };
        await using var log = await WriteAheadLog.OpenAsync(Id, Storage, options);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await log.AppendAsync(WalOperation.Insert, new byte[64 * 1024]));
        Assert.Equal(1, await log.AppendAsync(WalOperation.Insert, new byte[log.MaxPayloadBytes]));
        Assert.Equal(0, log.RecoveryStats.Entries);
    }

    [Fact]
    public async Task Interval_mode_acknowledges_and_replays_every_entry()
    {
        var options = new WalOptions { SyncMode = WalSyncMode.Interval, SyncInterval = TimeSpan.FromMilliseconds(5) };
        var storage = new FaultInjectingWalStorage(Storage);
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage, options))
        {
            var tasks = Enumerable.Range(0, 200).Select(i => log.AppendAsync(WalOperation.Insert, BitConverter.GetBytes(i)).AsTask()).ToList();
            await Task.WhenAll(tasks);
            await log.FlushAsync();
            Assert.True(log.Statistics.Fsyncs >= 1);
        }
        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage, options);
        var entries = await ReadAll(reopened);
        Assert.Equal(200, entries.Count);
        Assert.Equal(Enumerable.Range(0, 200).ToHashSet(), entries.Select(e => BitConverter.ToInt32(e.Payload.Span)).ToHashSet());
    }

    [Fact]
    public async Task A_cancelled_append_that_was_not_written_never_appears()
    {
        await using var log = await WriteAheadLog.OpenAsync(Id, Storage);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await log.AppendAsync(WalOperation.Insert, new byte[3], cts.Token));
        Assert.Equal(1, await log.AppendAsync(WalOperation.Insert, new byte[4]));
        Assert.Single(await ReadAll(log));
    }

    internal static string StoragePaths(TableId id) => TimeFusion.Storage.StoragePathNames.WalRoot(id).Replace('/', Path.DirectorySeparatorChar);
}
