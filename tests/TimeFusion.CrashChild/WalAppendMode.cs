using System.Globalization;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.CrashChild;

/// <summary>
/// <c>wal-append --root DIR --project P --table T [--writers 8] [--min-bytes 16] [--max-bytes 65536]
/// [--sync per-commit|interval] [--segment-bytes N]</c>: opens the log (recovering it), prints
/// <c>READY {lastLsn}</c>, then appends self-describing payloads from several concurrent writers forever, printing
/// <c>ACK {lsn} {writer} {seq} {size}</c> after each acknowledged append.
/// </summary>
public sealed class WalAppendMode : ICrashMode
{
    public string Name => "wal-append";

    public async Task<int> RunAsync(CrashArgs args, CrashOutput output)
    {
        var id = new TableId(args.Get("project"), args.Get("table"));
        var options = new WalOptions
        {
            SyncMode = args.Get("sync", "per-commit") == "interval" ? WalSyncMode.Interval : WalSyncMode.PerCommit,
            SegmentSizeBytes = args.GetLong("segment-bytes", new WalOptions().SegmentSizeBytes),
        };
        var writers = (int)args.GetLong("writers", 8);
        var min = (int)args.GetLong("min-bytes", 16);
        var max = (int)args.GetLong("max-bytes", 65536);
        await using var log = await WriteAheadLog.OpenAsync(id, new LocalWalStorage(args.Get("root")), options);
        output.Line("READY " + log.LastLsn.ToString(CultureInfo.InvariantCulture));
        // A fresh writer-id space per run (so payloads of different runs differ), kept within int range.
        var run = Environment.ProcessId % 10_000_000;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var writer = run * 64 + w;
            var random = new Random(writer);
            for (long seq = 0; ; seq++)
            {
                var size = random.Next(min, max + 1);
                var lsn = await log.AppendAsync(WalOperation.Insert, CrashPayloads.Create(writer, seq, size));
                output.Line(FormattableString.Invariant($"ACK {lsn} {writer} {seq} {size}"));
            }
        })));
        return 0;
    }
}
