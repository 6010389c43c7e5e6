using System.Globalization;
using TimeFusion.Engine;
using TimeFusion.Tables;

namespace TimeFusion.CrashChild;

/// <summary>
/// <c>engine-ingest --root DIR --project P [--writers 4] [--rows 200]</c>: opens the table engine (recovering it),
/// prints <c>READY {rows recovered}</c>, then inserts batches from several writers while a flusher persists them
/// continuously, printing <c>ACK {lsn} {batchKey} {rows}</c> after each acknowledged insert and
/// <c>FLUSHED {lsn}</c> after each flush, until killed — so kills land mid-insert, mid-flush and between the
/// Delta commit and the WAL truncation.
/// </summary>
public sealed class EngineIngestMode : ICrashMode
{
    public string Name => "engine-ingest";

    public async Task<int> RunAsync(CrashArgs args, CrashOutput output)
    {
        var root = args.Get("root");
        var id = new TableId(args.Get("project"), EngineCrashTable.Schema.Name);
        var writers = (int)args.GetLong("writers", 4);
        var rows = (int)args.GetLong("rows", 200);
        await using var buffer = EngineCrashTable.OpenBuffer();
        await using var engine = await TableEngine.OpenAsync(id, EngineCrashTable.Schema, EngineCrashTable.Services(root, buffer));
        output.Line("READY " + engine.Recovery.ReplayedRows.ToString(CultureInfo.InvariantCulture));
        var run = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var start = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks / 10;
        var flusher = Task.Run(async () =>
        {
            while (true)
            {
                var r = await engine.FlushAsync();
                if (r.DeltaVersion is not null) output.Line("FLUSHED " + r.FlushedThroughLsn.ToString(CultureInfo.InvariantCulture));
                await Task.Yield();
            }
        });
        var inserts = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var seq = 0L; ; seq++)
            {
                var key = FormattableString.Invariant($"{run}.{w}.{seq}");
                // Each writer's batches cover their own span of time, so that the batches a flush takes can be put in
                // timestamp order: its export goes through the Arrow writer (TailParquetWriter), as ordered telemetry does.
                var lsn = await engine.InsertAsync(EngineCrashTable.Batch(key, rows, start + seq * 1000 * writers + w * 1000));
                output.Line(FormattableString.Invariant($"ACK {lsn} {key} {rows}"));
            }
        }));
        await Task.WhenAll(inserts.Append(flusher));
        return 0;
    }
}
