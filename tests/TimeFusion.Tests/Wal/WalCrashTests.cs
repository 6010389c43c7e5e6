using System.Globalization;
using TimeFusion.CrashChild;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Wal;

public sealed class WalCrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Every_acknowledged_append_survives_a_kill_mid_append_exactly_once_and_intact()
    {
        var id = new TableId("crash ü/../proj", "events");
        var acked = new Dictionary<long, (int Writer, long Seq)>();
        var rounds = new[]
        {
            (Sync: "per-commit", SegmentBytes: 64L << 20, KillAfter: 150),
            (Sync: "interval", SegmentBytes: 64L << 20, KillAfter: 300),
            (Sync: "per-commit", SegmentBytes: 65_536L, KillAfter: 200),
        };
        foreach (var round in rounds)
        {
            IReadOnlyList<string> lines;
            await using (var child = CrashChildProcess.Start("wal-append",
                             "--root", _dir.Path, "--project", id.Project, "--table", id.Table, "--writers", "8",
                             "--min-bytes", "16", "--max-bytes", "131072", "--sync", round.Sync,
                             "--segment-bytes", round.SegmentBytes.ToString(CultureInfo.InvariantCulture)))
            {
                await child.WaitForLinesAsync(l => l.StartsWith("ACK ", StringComparison.Ordinal), round.KillAfter, TimeSpan.FromSeconds(60));
                lines = await child.KillAsync(); // appends are still running: the child loops forever
            }

            var ready = long.Parse(lines.Single(l => l.StartsWith("READY ", StringComparison.Ordinal))[6..], CultureInfo.InvariantCulture);
            Assert.True(ready >= acked.Keys.DefaultIfEmpty(0).Max(), "LSNs continue after a crash");
            var newAcks = 0;
            foreach (var line in lines.Where(l => l.StartsWith("ACK ", StringComparison.Ordinal)))
            {
                var p = line.Split(' ');
                var lsn = long.Parse(p[1], CultureInfo.InvariantCulture);
                Assert.True(lsn > ready, $"LSN {lsn} reused after a crash (log was at {ready})");
                Assert.True(acked.TryAdd(lsn, (int.Parse(p[2], CultureInfo.InvariantCulture), long.Parse(p[3], CultureInfo.InvariantCulture))), $"LSN {lsn} acknowledged twice");
                newAcks++;
            }
            Assert.True(newAcks >= round.KillAfter);

            await using var log = await WriteAheadLog.OpenAsync(id, new LocalWalStorage(_dir.Path));
            var seen = new HashSet<long>();
            var payloads = new HashSet<(int, long)>();
            await foreach (var e in log.ReadAsync(0))
            {
                Assert.True(seen.Add(e.Lsn));
                var who = CrashPayloads.Check(e.Payload.Span);
                Assert.True(who is not null, $"entry {e.Lsn} holds a damaged payload");
                Assert.True(payloads.Add(who.Value), $"payload {who} replayed twice");
                if (acked.TryGetValue(e.Lsn, out var expected)) Assert.Equal(expected, who.Value);
            }
            var missing = acked.Keys.Where(l => !seen.Contains(l)).ToList();
            Assert.True(missing.Count == 0, $"acknowledged LSNs lost: {string.Join(",", missing.Take(20))}");
            output.WriteLine($"{round.Sync}: {newAcks} acks before the kill, {seen.Count} entries, torn tail: {log.RecoveryStats.TornTail?.Length.ToString() ?? "none"}, segments {log.RecoveryStats.Segments}");
        }
    }
}
