using System.Collections.Concurrent;
using CsCheck;
using Microsoft.Extensions.Logging;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

/// <summary>
/// <see cref="WalWriteMode.Direct"/>: preallocated (zero-filled) segments written with O_DIRECT. A "crash image" is a
/// copy of the log's files taken while it is open and acknowledging: what a SIGKILL or a power cut after the last
/// acknowledged fdatasync leaves — entries followed by the zero-filled blocks prepared ahead.
/// </summary>
public sealed class WalDirectModeTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-direct", "events");
    private int _next;

    public void Dispose() => _dir.Dispose();

    private string NewRoot() => Path.Combine(_dir.Path, (++_next).ToString());

    private static WalOptions Direct(long segmentBytes = 64 << 20, bool refuse = false, WalSyncMode sync = WalSyncMode.PerCommit) => new()
    {
        WriteMode = WalWriteMode.Direct, SegmentSizeBytes = segmentBytes, RefuseDirectIo = refuse, SyncMode = sync,
        SyncInterval = TimeSpan.FromMinutes(1),
    };

    private static byte[] Payload(int i, int length) => Enumerable.Range(0, length).Select(b => (byte)(b * 7 ^ i)).ToArray();

    private static async Task<List<WalEntry>> ReadAll(WriteAheadLog log)
    {
        var list = new List<WalEntry>();
        await foreach (var e in log.ReadAsync(0)) list.Add(e);
        return list;
    }

    /// <summary>Copies every file of the log's folder into a new root, as the disk holds them now.</summary>
    private string CrashImage(string root)
    {
        var image = NewRoot();
        var to = WalFiles.Folder(image, Id);
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(WalFiles.Folder(root, Id))) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        return image;
    }

    [Fact]
    public async Task Segments_are_written_with_O_DIRECT_and_zero_filled_ahead_of_the_entries()
    {
        var root = NewRoot();
        await using var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct());
        for (var i = 1; i <= 5; i++) await log.AppendAsync(WalOperation.Insert, Payload(i, 3000));
        await log.WhenPreparedAsync();
        Assert.True(log.WritesDirect);
        var segment = WalFiles.Segments(root, Id).Single();
        var bytes = await File.ReadAllBytesAsync(segment);
        var end = WalFiles.FrameEnds(segment)[^1];
        Assert.Equal(6, WalFiles.FrameEnds(segment).Count);
        // Room for the next groups exists before they come: zeros for two more of them, in a chunk of at least 256 KiB.
        Assert.True(bytes.Length >= end + 2 * 3008 && bytes.Length >= 256 << 10, $"file {bytes.Length} bytes, entries end at {end}");
        Assert.True(bytes.AsSpan((int)end).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(5, log.Statistics.Appends);
    }

    [Fact]
    public async Task A_crash_image_with_a_zero_tail_recovers_every_entry_and_the_real_lengths()
    {
        var root = NewRoot();
        var payloads = new List<byte[]>();
        string image;
        // Small segments: several of them, each closed by a roll with zeros left behind its last entry in the image.
        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct(segmentBytes: 10_000)))
        {
            for (var i = 1; i <= 40; i++)
            {
                payloads.Add(Payload(i, 500 + 37 * i));
                await log.AppendAsync(WalOperation.Insert, payloads[^1]);
            }
            image = CrashImage(root);
        }
        var segments = WalFiles.Segments(image, Id);
        Assert.True(segments.Length > 3);
        Assert.True(new FileInfo(segments[^1]).Length > WalFiles.FrameEnds(segments[^1])[^1], "the active segment is preallocated");
        // A crash between a roll and closing the rolled segment (which gives its zeros back) leaves zeros behind its entries.
        foreach (var s in segments[..^1]) WalFiles.Append(s, new byte[3000]);

        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(image), Direct(segmentBytes: 10_000)))
        {
            Assert.Null(log.RecoveryStats.TornTail);
            Assert.Empty(log.RecoveryStats.CorruptEntries);
            Assert.Equal(40, log.LastLsn);
            Assert.Equal(payloads.Select(Convert.ToHexString), (await ReadAll(log)).Select(e => Convert.ToHexString(e.Payload.Span)));
            // Replay from inside any segment (the set's lengths are where the entries end, not the files').
            foreach (var after in new long[] { 7, 19, 33 })
            {
                var tail = new List<long>();
                await foreach (var e in log.ReadAsync(after)) tail.Add(e.Lsn);
                Assert.Equal(Enumerable.Range((int)after + 1, 40 - (int)after).Select(i => (long)i), tail);
            }
            Assert.Equal(41, await log.AppendAsync(WalOperation.Insert, Payload(41, 10)));
            // Truncation deletes whole covered segments as before.
            await log.TruncateAsync(30);
        }
        await using var reopened = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(image), Direct(segmentBytes: 10_000));
        var left = await ReadAll(reopened);
        Assert.Equal(41, left[^1].Lsn);
        Assert.True(left[0].Lsn <= 31);
        Assert.Equal(Enumerable.Range((int)left[0].Lsn, 42 - (int)left[0].Lsn).Select(i => (long)i), left.Select(e => e.Lsn));
    }

    [Fact]
    public async Task Zeros_where_entries_of_an_earlier_segment_should_be_are_damage_not_its_end()
    {
        var root = NewRoot();
        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct(segmentBytes: 10_000)))
            for (var i = 1; i <= 30; i++) await log.AppendAsync(WalOperation.Insert, Payload(i, 1500));
        var first = WalFiles.Segments(root, Id)[0];
        var ends = WalFiles.FrameEnds(first);
        var lost = ends.Count - 1;
        // The segment's last entry zeroed (the disk lost it): zeros up to the end, but the next segment's name says an
        // entry is missing.
        var bytes = await File.ReadAllBytesAsync(first);
        bytes.AsSpan((int)ends[^2]).Clear();
        await File.WriteAllBytesAsync(first, bytes);

        await using var reopened = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct(segmentBytes: 10_000));
        var damage = Assert.Single(reopened.RecoveryStats.CorruptEntries);
        Assert.Equal(ends[^2], damage.Position);
        Assert.Contains("next segment starts", damage.Reason);
        Assert.Equal(Enumerable.Range(1, 30).Where(i => i != lost).Select(i => (long)i), (await ReadAll(reopened)).Select(e => e.Lsn));
        await Assert.ThrowsAsync<WalCorruptException>(async () =>
            await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), new WalOptions { CorruptionPolicy = WalCorruptionPolicy.Strict, SegmentSizeBytes = 10_000 }));
    }

    [Fact]
    public async Task Entries_smaller_than_a_block_rewrite_the_last_partial_block_without_losing_earlier_ones()
    {
        var root = NewRoot();
        string image;
        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct()))
        {
            // One group each: every write rewrites the block holding the previous entries' ends.
            for (var i = 1; i <= 60; i++) await log.AppendAsync(WalOperation.Insert, Payload(i, 13 + i % 200));
            image = CrashImage(root);
        }
        await using var recovered = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(image), Direct());
        var entries = await ReadAll(recovered);
        Assert.Equal(Enumerable.Range(1, 60).Select(i => Convert.ToHexString(Payload(i, 13 + i % 200))), entries.Select(e => Convert.ToHexString(e.Payload.Span)));
        Assert.Null(recovered.RecoveryStats.TornTail);
    }

    [Fact]
    public async Task A_torn_group_is_cut_and_after_reopening_and_appending_no_stale_byte_is_read_as_an_entry()
    {
        var root = NewRoot();
        await using var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct());
        for (var i = 1; i <= 5; i++) await log.AppendAsync(WalOperation.Insert, Payload(i, 700));
        var before = CrashImage(root);
        // A group of three, of which the crash kept the first entry and half of the second (the rest still zeros).
        await Task.WhenAll(Enumerable.Range(6, 3).Select(i => log.AppendAsync(WalOperation.Insert, Payload(i, 5000)).AsTask()));
        var after = CrashImage(root);
        var segment = Path.GetFileName(WalFiles.Segments(root, Id).Single());
        var ends = WalFiles.FrameEnds(Path.Combine(WalFiles.Folder(after, Id), segment));
        Assert.Equal(9, ends.Count);
        var cut = (int)(ends[6] + 2500);
        var torn = (await File.ReadAllBytesAsync(Path.Combine(WalFiles.Folder(before, Id), segment))).ToList();
        var newer = await File.ReadAllBytesAsync(Path.Combine(WalFiles.Folder(after, Id), segment));
        while (torn.Count < newer.Length) torn.Add(0);
        newer.AsSpan(0, cut).CopyTo(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(torn));
        await File.WriteAllBytesAsync(Path.Combine(WalFiles.Folder(before, Id), segment), torn.ToArray());

        await using (var reopened = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(before), Direct()))
        {
            var tornTail = Assert.IsType<WalDamage>(reopened.RecoveryStats.TornTail);
            Assert.Equal(ends[6], tornTail.Position);
            Assert.Equal(6, reopened.LastLsn);
            // A short entry: the stale half of the torn one would follow it if the cut had left it there.
            Assert.Equal(7, await reopened.AppendAsync(WalOperation.Delete, new byte[] { 42 }));
            var image = CrashImage(before);
            await using var again = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(image), Direct());
            Assert.Null(again.RecoveryStats.TornTail);
            Assert.Empty(again.RecoveryStats.CorruptEntries);
            var entries = await ReadAll(again);
            Assert.Equal([1L, 2, 3, 4, 5, 6, 7], entries.Select(e => e.Lsn));
            Assert.Equal(Payload(6, 5000), entries[5].Payload.ToArray());
            Assert.Equal(new byte[] { 42 }, entries[6].Payload.ToArray());
        }
    }

    [Fact]
    public async Task When_the_file_system_refuses_O_DIRECT_the_preallocated_segments_are_written_buffered_and_it_is_logged_once()
    {
        var root = NewRoot();
        var logger = new Warnings();
        var storage = new LocalWalStorage(root, logger);
        string image;
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage, Direct(segmentBytes: 16_384, refuse: true)))
        {
            for (var i = 1; i <= 20; i++) await log.AppendAsync(WalOperation.Insert, Payload(i, 2000));
            Assert.False(log.WritesDirect);
            Assert.True(WalFiles.Segments(root, Id).Length > 1);
            var segment = WalFiles.Segments(root, Id)[^1];
            Assert.True(new FileInfo(segment).Length > WalFiles.FrameEnds(segment)[^1], "the active segment is preallocated");
            image = CrashImage(root);
        }
        Assert.Single(logger.Messages);
        Assert.Contains("O_DIRECT", logger.Messages.Single());
        await using var recovered = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(image), Direct());
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), (await ReadAll(recovered)).Select(e => e.Lsn));
        Assert.True(recovered.WritesDirect);
    }

    [Fact]
    public async Task A_log_written_in_one_mode_opens_and_continues_in_the_other()
    {
        var root = NewRoot();
        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct()))
            for (var i = 1; i <= 3; i++) await log.AppendAsync(WalOperation.Insert, Payload(i, 100));
        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), new WalOptions { WriteMode = WalWriteMode.Append }))
            for (var i = 4; i <= 6; i++) await log.AppendAsync(WalOperation.Insert, Payload(i, 100));
        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Direct()))
            Assert.Equal(7, await log.AppendAsync(WalOperation.Insert, Payload(7, 100)));
        await using var last = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), new WalOptions { WriteMode = WalWriteMode.Append });
        Assert.Equal(Enumerable.Range(1, 7).Select(i => Convert.ToHexString(Payload(i, 100))), (await ReadAll(last)).Select(e => Convert.ToHexString(e.Payload.Span)));
    }

    /// <summary>
    /// Random entry sizes and group boundaries; the crash comes during a random group, cutting its write at a random
    /// byte (before it: the group's bytes; after it: what the disk held before, the zeros). The background zero-fill
    /// interleaves: after each group a preparation is let through or held (a held one is stopped by the next group not
    /// fitting the room), the file images are taken while preparations run, and the crash leaves the file at a random
    /// size from the acknowledged entries' end to past everything written (a zero-fill's size kept or lost, the torn
    /// group's size lost). Recovery yields exactly a prefix of the written entries holding every acknowledged one, and
    /// after appending once more, that prefix and the new entry — nothing stale from the torn group.
    /// </summary>
    [Fact]
    public async Task After_a_crash_at_any_byte_recovery_yields_a_prefix_holding_every_acknowledged_entry()
    {
        var groups = Gen.Select(Gen.Int[0, 9000].Array[1, 4], Gen.Bool).Array[1, 8];
        await Gen.Select(groups, Gen.Double[0, 1], Gen.Double[0, 1], Gen.Double[0, 1]).SampleAsync(async t =>
        {
            var (plan, which, fraction, sizeFraction) = t;
            var root = NewRoot();
            var written = new List<byte[]>();
            var images = new List<byte[]>();
            var ends = new List<int>();
            using var permits = new SemaphoreSlim(0);
            var options = Direct(sync: WalSyncMode.Interval);
            options.PrepareHook = async token => await permits.WaitAsync(token);
            await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), options))
            {
                var segment = WalFiles.Segments(root, Id).Single();
                images.Add(await File.ReadAllBytesAsync(segment));
                foreach (var (group, release) in plan)
                {
                    var payloads = group.Select((n, k) => Payload(written.Count + k, n)).ToArray();
                    // Concurrent: one or more group commits; the LSN order is the order they were taken in.
                    var lsns = await Task.WhenAll(payloads.Select(p => log.AppendAsync(WalOperation.Insert, p).AsTask()));
                    foreach (var (_, p) in lsns.Zip(payloads).OrderBy(x => x.First)) written.Add(p);
                    if (release) permits.Release();
                    images.Add(await File.ReadAllBytesAsync(segment));
                    ends.Add(WalFiles.FrameEnds(segment).Count - 1);
                }
                // The crash comes while group c is written: groups before it were acknowledged.
                var c = Math.Min((int)(which * plan.Length), plan.Length - 1);
                var acked = c == 0 ? 0 : ends[c - 1];
                var frameEnds = WalFiles.FrameEnds(segment);
                var from = frameEnds[acked];
                var cut = (int)(from + (long)((frameEnds[ends[c]] - from) * fraction));
                var previous = images[c];
                var current = images[c + 1];
                var crashed = new byte[Math.Max(previous.Length, current.Length)];
                previous.CopyTo(crashed, 0);
                current.AsSpan(0, cut).CopyTo(crashed);
                // The size the crash left: anywhere from the acknowledged entries' end to a zero-fill's chunk past it all.
                var size = (int)(from + (long)((crashed.Length + (256 << 10) - from) * sizeFraction));
                Array.Resize(ref crashed, size);

                var image = NewRoot();
                var folder = WalFiles.Folder(image, Id);
                Directory.CreateDirectory(folder);
                File.Copy(Path.Combine(WalFiles.Folder(root, Id), "identity.json"), Path.Combine(folder, "identity.json"));
                await File.WriteAllBytesAsync(Path.Combine(folder, Path.GetFileName(segment)), crashed);

                long recoveredCount;
                await using (var recovered = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(image), Direct()))
                {
                    var entries = await ReadAll(recovered);
                    Assert.InRange(entries.Count, acked, written.Count);
                    Assert.Equal(written.Take(entries.Count).Select(Convert.ToHexString), entries.Select(e => Convert.ToHexString(e.Payload.Span)));
                    Assert.Empty(recovered.RecoveryStats.CorruptEntries);
                    recoveredCount = entries.Count;
                    Assert.Equal(recoveredCount + 1, await recovered.AppendAsync(WalOperation.Delete, new byte[] { 9 }));
                }
                await using var reopened = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(image), Direct());
                var final = await ReadAll(reopened);
                Assert.Equal(recoveredCount + 1, final.Count);
                Assert.Equal(WalOperation.Delete, final[^1].Operation);
                Assert.Null(reopened.RecoveryStats.TornTail);
            }
        }, iter: 60, threads: 1);
    }

    private sealed class Warnings : Microsoft.Extensions.Logging.ILogger
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning) Messages.Enqueue(formatter(state, exception));
        }
    }
}
