using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

public sealed class WalTruncateTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-t", "t");
    private static readonly WalOptions SmallSegments = new() { SegmentSizeBytes = 4096 };

    public void Dispose() => _dir.Dispose();

    private LocalWalStorage Storage => new(_dir.Path);

    private static async Task<List<long>> Lsns(WriteAheadLog log, long after = 0)
    {
        var list = new List<long>();
        await foreach (var e in log.ReadAsync(after)) list.Add(e.Lsn);
        return list;
    }

    [Fact]
    public async Task Truncating_everything_then_reopening_keeps_lsns_increasing()
    {
        await using (var log = await WriteAheadLog.OpenAsync(Id, Storage))
        {
            for (var i = 0; i < 5; i++) await log.AppendAsync(WalOperation.Insert, new byte[100]);
            await log.TruncateAsync(5);
            Assert.Empty(await Lsns(log));
            Assert.Equal(5, log.LastLsn);
            Assert.Equal(6, await log.AppendAsync(WalOperation.Insert, new byte[1]));
            await log.TruncateAsync(6);
        }
        var segment = Assert.Single(WalFiles.Segments(_dir.Path, Id));
        Assert.Equal("00000000000000000007.wal", Path.GetFileName(segment));
        Assert.Equal(0, new FileInfo(segment).Length);
        await using (var reopened = await WriteAheadLog.OpenAsync(Id, Storage))
        {
            Assert.Equal(6, reopened.LastLsn);
            Assert.Equal(0, reopened.RecoveryStats.Entries);
            Assert.Equal(7, await reopened.AppendAsync(WalOperation.Insert, new byte[1]));
        }
        await using var again = await WriteAheadLog.OpenAsync(Id, Storage);
        Assert.Equal([7L], await Lsns(again));
        Assert.Equal(8, await again.AppendAsync(WalOperation.Insert, new byte[1]));
    }

    [Fact]
    public async Task Truncation_deletes_only_whole_segments_at_or_below_the_lsn()
    {
        await using var log = await WriteAheadLog.OpenAsync(Id, Storage, SmallSegments);
        for (var i = 0; i < 100; i++) await log.AppendAsync(WalOperation.Insert, new byte[300]);
        var before = WalFiles.Segments(_dir.Path, Id).Length;
        Assert.True(before > 5);
        await log.TruncateAsync(50);
        var remaining = await Lsns(log);
        // Every entry above 50 is kept; entries at or below 50 survive only in the segment that also holds 51.
        Assert.Equal(Enumerable.Range(51, 50).Select(i => (long)i), remaining.Where(l => l > 50));
        Assert.True(remaining.Count(l => l <= 50) < 15);
        Assert.True(WalFiles.Segments(_dir.Path, Id).Length < before);
        Assert.Equal(remaining.First(), long.Parse(Path.GetFileNameWithoutExtension(WalFiles.Segments(_dir.Path, Id)[0])));

        await log.DisposeAsync();
        await using var reopened = await WriteAheadLog.OpenAsync(Id, Storage, SmallSegments);
        Assert.Equal(remaining, await Lsns(reopened));
        Assert.Equal(101, await reopened.AppendAsync(WalOperation.Insert, new byte[1]));
    }

    [Fact]
    public async Task Truncating_past_the_last_lsn_is_refused()
    {
        await using var log = await WriteAheadLog.OpenAsync(Id, Storage);
        await log.AppendAsync(WalOperation.Insert, new byte[1]);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.TruncateAsync(2));
        await log.TruncateAsync(0);
        Assert.Equal([1L], await Lsns(log));
    }

    [Fact]
    public async Task A_failed_delete_reaches_the_caller()
    {
        var storage = new FaultInjectingWalStorage(Storage);
        await using var log = await WriteAheadLog.OpenAsync(Id, storage, SmallSegments);
        for (var i = 0; i < 40; i++) await log.AppendAsync(WalOperation.Insert, new byte[300]);
        storage.FailDeletes = true;
        var e = await Assert.ThrowsAsync<IOException>(() => log.TruncateAsync(40));
        Assert.Contains("delete failed", e.Message);
        storage.FailDeletes = false;
        await log.TruncateAsync(40);
        Assert.Empty(await Lsns(log));
        Assert.Equal(41, await log.AppendAsync(WalOperation.Insert, new byte[1]));
    }
}
