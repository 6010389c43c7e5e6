using System.Buffers.Binary;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Wal;

public sealed class WalGroupCommitTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-g", "t");

    public void Dispose() => _dir.Dispose();

    private static byte[] Payload(int writer, int seq)
    {
        var bytes = new byte[16 + (writer * 31 + seq) % 300];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, writer);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), seq);
        for (var i = 8; i < bytes.Length; i++) bytes[i] = (byte)(writer ^ seq ^ i);
        return bytes;
    }

    [Fact]
    public async Task Concurrent_appenders_share_fsyncs_and_every_entry_replays_once_in_lsn_order()
    {
        const int writers = 64, perWriter = 40;
        var storage = new FaultInjectingWalStorage(new LocalWalStorage(_dir.Path));
        var acked = new System.Collections.Concurrent.ConcurrentDictionary<long, (int Writer, int Seq)>();
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            var flushesBefore = storage.Flushes;
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                var previous = 0L;
                for (var s = 0; s < perWriter; s++)
                {
                    var lsn = await log.AppendAsync(WalOperation.Insert, Payload(w, s));
                    Assert.True(lsn > previous, "one writer's LSNs increase");
                    previous = lsn;
                    Assert.True(acked.TryAdd(lsn, (w, s)), $"LSN {lsn} acknowledged twice");
                }
            })));
            var fsyncs = storage.Flushes - flushesBefore;
            output.WriteLine($"{writers * perWriter} appends, {fsyncs} fsyncs, {log.Statistics.Batches} group commits");
            Assert.True(fsyncs < writers * perWriter, $"{fsyncs} fsyncs for {writers * perWriter} appends");
            Assert.Equal(writers * perWriter, log.Statistics.Appends);
            Assert.True(log.Statistics.Batches < writers * perWriter, $"{log.Statistics.Batches} batches");
        }
        Assert.Equal(Enumerable.Range(1, writers * perWriter).Select(i => (long)i), acked.Keys.Order());

        await using var reopened = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(_dir.Path));
        var replayed = new List<long>();
        await foreach (var e in reopened.ReadAsync(0))
        {
            var (w, s) = acked[e.Lsn];
            Assert.Equal(Payload(w, s), e.Payload.ToArray());
            replayed.Add(e.Lsn);
        }
        Assert.Equal(acked.Keys.Order(), replayed);
    }

    [Fact]
    public async Task Appends_waiting_behind_a_full_queue_complete()
    {
        var options = new WalOptions { QueueCapacity = 2, MaxGroupCommitEntries = 3 };
        await using var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(_dir.Path), options);
        var lsns = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => log.AppendAsync(WalOperation.Insert, Payload(1, i)).AsTask()));
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), lsns.Order());
    }

    [Fact]
    public async Task Appending_after_dispose_is_refused()
    {
        var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(_dir.Path));
        await log.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await log.AppendAsync(WalOperation.Insert, new byte[] { 1 }));
    }
}
