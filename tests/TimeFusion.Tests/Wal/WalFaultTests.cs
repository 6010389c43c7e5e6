using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

public sealed class WalFaultTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-f", "t");

    public void Dispose() => _dir.Dispose();

    private LocalWalStorage Storage => new(_dir.Path);

    private static async Task<List<WalEntry>> ReadAll(WriteAheadLog log)
    {
        var list = new List<WalEntry>();
        await foreach (var e in log.ReadAsync(0)) list.Add(e);
        return list;
    }

    [Theory]
    [InlineData("write")]
    [InlineData("torn")]
    [InlineData("fsync")]
    public async Task A_failed_write_or_fsync_fails_the_append_and_every_later_one(string failure)
    {
        var storage = new FaultInjectingWalStorage(Storage);
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            Assert.Equal(1, await log.AppendAsync(WalOperation.Insert, new byte[] { 1, 1 }));
            Assert.Equal(2, await log.AppendAsync(WalOperation.Insert, new byte[] { 2, 2 }));
            switch (failure)
            {
                case "write": storage.FailWrites = true; break;
                case "torn": storage.TearWrites = true; break;
                default: storage.FailFlushes = true; break;
            }
            var first = await Assert.ThrowsAsync<WalFaultedException>(async () => await log.AppendAsync(WalOperation.Insert, new byte[500]));
            Assert.IsType<IOException>(first.InnerException);
            Assert.True(log.IsFaulted);

            // The storage works again, but the tail is unknown: nothing more is acknowledged.
            storage.FailWrites = storage.TearWrites = storage.FailFlushes = false;
            var writesBefore = storage.Writes;
            await Assert.ThrowsAsync<WalFaultedException>(async () => await log.AppendAsync(WalOperation.Insert, new byte[] { 4 }));
            await Assert.ThrowsAsync<WalFaultedException>(() => log.FlushAsync());
            Assert.Equal(writesBefore, storage.Writes);
            Assert.Equal(2, log.LastLsn);
        }

        // Reopening recovers: acknowledged entries are there; LSNs continue after anything that reached the file.
        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage);
        var entries = await ReadAll(reopened);
        Assert.Equal([1L, 2], entries.Take(2).Select(e => e.Lsn));
        Assert.Equal(new byte[] { 2, 2 }, entries[1].Payload.ToArray());
        if (failure == "torn") Assert.NotNull(reopened.RecoveryStats.TornTail);
        Assert.Equal(reopened.LastLsn + 1, await reopened.AppendAsync(WalOperation.Insert, new byte[] { 9 }));
        Assert.True(reopened.LastLsn > 2);
    }

    [Fact]
    public async Task Concurrent_appends_in_a_failing_group_all_fail()
    {
        var storage = new FaultInjectingWalStorage(Storage) { FailFlushes = true };
        await using var log = await WriteAheadLog.OpenAsync(Id, storage);
        var appends = Enumerable.Range(0, 50).Select(i => log.AppendAsync(WalOperation.Insert, BitConverter.GetBytes(i)).AsTask()).ToList();
        foreach (var a in appends) await Assert.ThrowsAsync<WalFaultedException>(() => a);
        Assert.Equal(0, log.LastLsn);
    }

    [Fact]
    public async Task A_failed_segment_roll_faults_the_log()
    {
        var storage = new FaultInjectingWalStorage(Storage);
        await using var log = await WriteAheadLog.OpenAsync(Id, storage, new WalOptions { SegmentSizeBytes = 4096 });
        await log.AppendAsync(WalOperation.Insert, new byte[3000]);
        storage.FailCreates = true;
        await Assert.ThrowsAsync<WalFaultedException>(async () => await log.AppendAsync(WalOperation.Insert, new byte[3000]));
        storage.FailCreates = false;
        await Assert.ThrowsAsync<WalFaultedException>(async () => await log.AppendAsync(WalOperation.Insert, new byte[10]));
    }

    [Fact]
    public async Task A_failed_interval_fsync_faults_the_log_and_dispose_reports_it()
    {
        var storage = new FaultInjectingWalStorage(Storage);
        var log = await WriteAheadLog.OpenAsync(Id, storage, new WalOptions { SyncMode = WalSyncMode.Interval, SyncInterval = TimeSpan.FromMilliseconds(1) });
        storage.FailFlushes = true;
        Assert.Equal(1, await log.AppendAsync(WalOperation.Insert, new byte[] { 1 }));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!log.IsFaulted && DateTime.UtcNow < deadline) await Task.Delay(5);
        Assert.True(log.IsFaulted);
        await Assert.ThrowsAsync<WalFaultedException>(async () => await log.AppendAsync(WalOperation.Insert, new byte[] { 2 }));
        await Assert.ThrowsAsync<WalFaultedException>(async () => await log.DisposeAsync());
    }
}
