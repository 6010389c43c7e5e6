using CsCheck;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

public sealed class WalPropertyTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-prop", "t");
    private int _next;

    public void Dispose() => _dir.Dispose();

    private string NewRoot() => Path.Combine(_dir.Path, (++_next).ToString());

    // Without fsyncs the properties run fast; durability is not what they test.
    private static WalOptions Options(long segmentBytes = 64 << 20, int maxCorrupt = 0) => new()
    {
        SyncMode = WalSyncMode.Interval, SyncInterval = TimeSpan.FromMinutes(1), SegmentSizeBytes = segmentBytes, MaxCorruptEntries = maxCorrupt,
    };

    private static async Task<List<WalEntry>> ReadAll(WriteAheadLog log)
    {
        var list = new List<WalEntry>();
        await foreach (var e in log.ReadAsync(0)) list.Add(e);
        return list;
    }

    [Fact]
    public async Task Any_sequence_of_entries_round_trips_through_frames_and_segments()
    {
        var entries = Gen.Select(Gen.Int[1, 3], Gen.Byte.Array[0, 3000]).List[1, 40];
        var segmentBytes = Gen.Int[4096, 40_000];
        await Gen.Select(entries, segmentBytes).SampleAsync(async t =>
        {
            var (list, segment) = t;
            var root = NewRoot();
            await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Options(segment)))
            {
                var lsns = await Task.WhenAll(list.Select(e => log.AppendAsync((WalOperation)e.Item1, e.Item2).AsTask()));
                Assert.Equal(Enumerable.Range(1, list.Count).Select(i => (long)i), lsns.Order());
            }
            await using var reopened = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Options(segment));
            var read = await ReadAll(reopened);
            Assert.Equal(list.Count, read.Count);
            // Concurrent appends may be ordered either way; each LSN carries exactly one of the written entries.
            var expected = list.Select(e => ((WalOperation)e.Item1, Convert.ToHexString(e.Item2))).Order().ToList();
            Assert.Equal(expected, read.Select(e => (e.Operation, Convert.ToHexString(e.Payload.Span))).Order().ToList());
            Assert.Equal(list.Count, reopened.LastLsn);
        }, iter: 60, threads: 1);
    }

    [Fact]
    public async Task Random_damage_never_crashes_never_invents_entries_and_keeps_everything_before_it()
    {
        // One log of 30 entries, written once; each sample damages a copy.
        var source = NewRoot();
        var payloads = new Dictionary<long, byte[]>();
        var random = new Random(7);
        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(source), Options()))
        {
            for (var i = 0; i < 30; i++)
            {
                var payload = new byte[random.Next(0, 600)];
                random.NextBytes(payload);
                payloads[await log.AppendAsync(WalOperation.Insert, payload)] = payload;
                await log.FlushAsync();
            }
        }
        var segment = WalFiles.Segments(source, Id).Single();
        var frameEnds = WalFiles.FrameEnds(segment).Skip(1).ToList();
        Assert.Equal(30, frameEnds.Count);
        var original = await File.ReadAllBytesAsync(segment);
        var identity = await File.ReadAllBytesAsync(Path.Combine(WalFiles.Folder(source, Id), "identity.json"));

        var flips = Gen.Select(Gen.Int[0, original.Length - 1], Gen.Byte[1, 255]).Array[0, 8];
        var cut = Gen.Int[0, original.Length].Select(n => (int?)n);
        var damage = Gen.Select(flips, Gen.Frequency((1, cut), (2, Gen.Const((int?)null))));
        await damage.SampleAsync(async t =>
        {
            var (changes, truncateAt) = t;
            var bytes = original.ToArray();
            foreach (var (at, xor) in changes) bytes[at] ^= xor;
            if (truncateAt is { } n) bytes = bytes[..n];
            var firstDamage = Math.Min(changes.Length == 0 ? long.MaxValue : changes.Min(c => c.Item1), truncateAt ?? long.MaxValue);

            var root = NewRoot();
            var folder = WalFiles.Folder(root, Id);
            Directory.CreateDirectory(folder);
            await File.WriteAllBytesAsync(Path.Combine(folder, "identity.json"), identity);
            await File.WriteAllBytesAsync(Path.Combine(folder, Path.GetFileName(segment)), bytes);

            await using var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), Options(maxCorrupt: int.MaxValue));
            var read = await ReadAll(log);
            foreach (var e in read)
            {
                Assert.True(payloads.TryGetValue(e.Lsn, out var written), $"LSN {e.Lsn} was never written");
                Assert.Equal(written, e.Payload.ToArray());
            }
            var intact = frameEnds.Count(end => end <= firstDamage);
            Assert.Equal(Enumerable.Range(1, intact).Select(i => (long)i), read.Take(intact).Select(e => e.Lsn));
            var next = await log.AppendAsync(WalOperation.Delete, new byte[] { 1 });
            Assert.True(next > (read.Count == 0 ? 0 : read[^1].Lsn));
        }, iter: 400, threads: 1);
    }
}
