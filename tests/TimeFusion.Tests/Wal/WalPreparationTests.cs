using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

/// <summary>
/// <see cref="WalWriteMode.Direct"/>'s preparation (zero-filling ahead, the spare segment) runs in the background, off
/// the writer loop: held, released or failed here through <see cref="WalOptions.PrepareHook"/>.
/// </summary>
public sealed class WalPreparationTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-prep", "events");
    private int _next;

    public void Dispose() => _dir.Dispose();

    private string NewRoot() => Path.Combine(_dir.Path, (++_next).ToString());

    private static WalOptions Direct(Func<CancellationToken, ValueTask>? hook, long segmentBytes = 64 << 20) => new()
    {
        WriteMode = WalWriteMode.Direct, SegmentSizeBytes = segmentBytes, PrepareHook = hook,
    };

    private static byte[] Payload(int i, int length) => Enumerable.Range(0, length).Select(b => (byte)(b * 7 ^ i)).ToArray();

    private static async Task<List<WalEntry>> ReadAll(WriteAheadLog log)
    {
        var list = new List<WalEntry>();
        await foreach (var e in log.ReadAsync(0)) list.Add(e);
        return list;
    }

    /// <summary>Preparations wait for a permit; counts how many asked and how many were stopped while waiting.</summary>
    private sealed class Permits
    {
        private readonly SemaphoreSlim _permits = new(0);
        private int _asked, _stopped;

        public int Asked => Volatile.Read(ref _asked);

        public int Stopped => Volatile.Read(ref _stopped);

        public void Release(int n = 1) => _permits.Release(n);

        public async ValueTask Hook(CancellationToken token)
        {
            Interlocked.Increment(ref _asked);
            try
            {
                await _permits.WaitAsync(token);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _stopped);
                throw;
            }
        }
    }

    private static void AssertZerosAfterEntries(string segment)
    {
        var bytes = File.ReadAllBytes(segment);
        var end = WalFiles.FrameEnds(segment)[^1];
        Assert.True(bytes.AsSpan((int)end).IndexOfAnyExcept((byte)0) < 0, "only zeros after the last entry");
    }

    [Fact]
    public async Task Groups_are_acknowledged_while_a_preparation_is_held_and_each_one_past_the_room_stops_it()
    {
        var root = NewRoot();
        var permits = new Permits();
        await using var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct(permits.Hook));
        // No permit is ever given: every preparation waits, and the acknowledgements do not.
        for (var i = 1; i <= 8; i++) Assert.Equal(i, await log.AppendAsync(WalOperation.Insert, Payload(i, 50_000)));
        // From the second group on each group asked for room; each next group, not fitting, stopped the one waiting
        // (the eighth's may not have reached its hook yet).
        Assert.Equal(6, permits.Stopped);
        Assert.InRange(permits.Asked, 6, 7);
        // No zeros were written: every group went past the end of the file.
        var segment = WalFiles.Segments(root, Id).Single();
        Assert.Equal((WalFiles.FrameEnds(segment)[^1] + 4095) / 4096 * 4096, new FileInfo(segment).Length);
        Assert.Equal(8, (await ReadAll(log)).Count);
    }

    [Fact]
    public async Task Groups_fitting_the_prepared_room_are_written_while_the_next_preparation_runs()
    {
        var root = NewRoot();
        var permits = new Permits();
        string image;
        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct(permits.Hook)))
        {
            // 3,000-byte groups: the first zero-fill is 256 KiB, about 86 groups.
            await log.AppendAsync(WalOperation.Insert, Payload(1, 3000));
            await log.AppendAsync(WalOperation.Insert, Payload(2, 3000));
            permits.Release();
            await log.WhenPreparedAsync();
            Assert.Equal(1, permits.Asked);
            var segment = WalFiles.Segments(root, Id).Single();
            // A 256 KiB chunk after the two groups written past the end of the file.
            var prepared = new FileInfo(segment).Length;
            Assert.Equal(8192 + (256 << 10), prepared);
            // Fill the room until the next preparation is asked for (fewer than four groups left), then write more
            // groups into what is left while that preparation waits.
            var n = 2;
            while (permits.Asked == 1) await log.AppendAsync(WalOperation.Insert, Payload(++n, 3000));
            await log.AppendAsync(WalOperation.Insert, Payload(++n, 3000));
            Assert.Equal(2, permits.Asked);
            Assert.Equal(0, permits.Stopped);
            Assert.Equal(prepared, new FileInfo(segment).Length);
            permits.Release();
            await log.WhenPreparedAsync();
            Assert.True(new FileInfo(segment).Length > prepared);
            AssertZerosAfterEntries(segment);
            for (var k = 0; k < 5; k++) await log.AppendAsync(WalOperation.Insert, Payload(++n, 3000));
            Assert.Equal(0, permits.Stopped);
            image = Path.Combine(_dir.Path, "image-" + Guid.NewGuid().ToString("N"));
            var folder = WalFiles.Folder(image, Id);
            Directory.CreateDirectory(folder);
            foreach (var f in Directory.GetFiles(WalFiles.Folder(root, Id))) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
            Assert.Equal(n, log.LastLsn);
        }
        await using var recovered = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(image), Direct(null));
        var entries = await ReadAll(recovered);
        Assert.Equal(Enumerable.Range(1, entries.Count).Select(i => Convert.ToHexString(Payload(i, 3000))), entries.Select(e => Convert.ToHexString(e.Payload.Span)));
        Assert.Null(recovered.RecoveryStats.TornTail);
        Assert.Empty(recovered.RecoveryStats.CorruptEntries);
    }

    [Fact]
    public async Task A_failed_preparation_faults_the_log_and_the_acknowledged_entries_recover()
    {
        var root = NewRoot();
        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root),
                         Direct(_ => ValueTask.FromException(new IOException("no space left on device (simulated)")))))
        {
            await log.AppendAsync(WalOperation.Insert, Payload(1, 3000));
            await log.AppendAsync(WalOperation.Insert, Payload(2, 3000));
            await log.WhenPreparedAsync();
            // The next group does not need the room (it writes past it); the failure is taken after it, faulting the log.
            Assert.Equal(3, await log.AppendAsync(WalOperation.Insert, Payload(3, 3000)));
            var e = await Assert.ThrowsAsync<WalFaultedException>(async () => await log.AppendAsync(WalOperation.Insert, Payload(4, 3000)));
            Assert.Contains("simulated", e.Message);
            Assert.True(log.IsFaulted);
        }
        await using var reopened = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct(null));
        Assert.Equal([1L, 2, 3], (await ReadAll(reopened)).Select(x => x.Lsn));
    }

    [Fact]
    public async Task Disposing_the_log_stops_its_preparations_and_waits_for_them()
    {
        var root = NewRoot();
        var permits = new Permits();
        // Small segments: the spare of the next one is asked for too.
        var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct(permits.Hook, segmentBytes: 40_000));
        for (var i = 1; i <= 6; i++) await log.AppendAsync(WalOperation.Insert, Payload(i, 5000));
        Assert.True(permits.Asked >= 2, $"asked {permits.Asked}");
        await log.DisposeAsync();
        // Every preparation still waiting was stopped by the disposal, which returned only after they ended.
        Assert.Equal(permits.Asked, permits.Stopped);
        var segment = WalFiles.Segments(root, Id).Single();
        Assert.Equal(WalFiles.FrameEnds(segment)[^1], new FileInfo(segment).Length);
        Assert.False(File.Exists(Path.Combine(WalFiles.Folder(root, Id), LocalWalDirectory.SpareName)));
    }

    [Fact]
    public async Task The_next_segment_is_prepared_in_the_background_and_renamed_in_at_the_roll()
    {
        var root = NewRoot();
        var permits = new Permits();
        await using var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct(permits.Hook, segmentBytes: 1 << 20));
        var spare = Path.Combine(WalFiles.Folder(root, Id), LocalWalDirectory.SpareName);
        permits.Release(1000);
        var n = 0;
        while (!File.Exists(spare)) await log.AppendAsync(WalOperation.Insert, Payload(++n, 60_000));
        await log.WhenPreparedAsync();
        var spareBytes = new FileInfo(spare).Length;
        Assert.True(spareBytes >= 256 << 10);
        Assert.True(File.ReadAllBytes(spare).AsSpan().IndexOfAnyExcept((byte)0) < 0);
        while (WalFiles.Segments(root, Id).Length == 1) await log.AppendAsync(WalOperation.Insert, Payload(++n, 60_000));
        // The new segment is the spare renamed: as long as the spare, zeros after its first entries.
        var second = WalFiles.Segments(root, Id)[1];
        Assert.True(new FileInfo(second).Length >= spareBytes);
        AssertZerosAfterEntries(second);
        Assert.Equal(Enumerable.Range(1, n).Select(i => (long)i), (await ReadAll(log)).Select(e => e.Lsn));
    }

    [Fact]
    public async Task Many_logs_preparing_at_once_use_at_most_the_preparers_slots()
    {
        var root = NewRoot();
        var storage = new LocalWalStorage(root);
        var logs = await Task.WhenAll(Enumerable.Range(0, 24).Select(t => WriteAheadLog.OpenAsync(new TableId("proj-prep", $"t{t}"), storage, Direct(null))));
        try
        {
            await Task.WhenAll(logs.Select(async (log, t) =>
            {
                for (var i = 1; i <= 4; i++) await log.AppendAsync(WalOperation.Insert, Payload(t + i, 200_000));
            }));
            foreach (var log in logs) await log.WhenPreparedAsync();
            foreach (var t in Enumerable.Range(0, 24))
            {
                var segment = WalFiles.Segments(root, new TableId("proj-prep", $"t{t}")).Single();
                Assert.True(new FileInfo(segment).Length > WalFiles.FrameEnds(segment)[^1], $"table t{t} has room ahead");
                AssertZerosAfterEntries(segment);
            }
        }
        finally
        {
            foreach (var log in logs) await log.DisposeAsync();
        }
        Assert.InRange(WalPreparer.Peak, 1, WalPreparer.Slots);
    }
}
