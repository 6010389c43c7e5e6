using System.Globalization;
using TimeFusion.Engine;
using TimeFusion.Tables;

namespace TimeFusion.CrashChild;

/// <summary>
/// <c>engine-optimize --root DIR --project P [--flushes 12] [--rows 50]</c>: opens the table engine (recovering it),
/// prints <c>READY</c>, then loops until killed: inserts and flushes <c>flushes</c> small batches (printing
/// <c>FLUSHED {batchKey} {rows}</c> once each is in Delta), prints <c>OPTIMIZING</c>, runs OPTIMIZE and prints
/// <c>OPTIMIZED {version}</c> — so a kill lands while OPTIMIZE reads, writes, uploads or commits.
/// </summary>
public sealed class EngineOptimizeMode : ICrashMode
{
    public string Name => "engine-optimize";

    public async Task<int> RunAsync(CrashArgs args, CrashOutput output)
    {
        var root = args.Get("root");
        var id = new TableId(args.Get("project"), EngineCrashTable.Schema.Name);
        var flushes = (int)args.GetLong("flushes", 12);
        var rows = (int)args.GetLong("rows", 50);
        await using var buffer = EngineCrashTable.OpenBuffer();
        await using var engine = await TableEngine.OpenAsync(id, EngineCrashTable.Schema, EngineCrashTable.Services(root, buffer));
        output.Line("READY");
        var run = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var start = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks / 10;
        for (var round = 0L; ; round++)
        {
            for (var f = 0; f < flushes; f++)
            {
                var key = FormattableString.Invariant($"{run}.{round}.{f}");
                await engine.InsertAsync(EngineCrashTable.Batch(key, rows, start + (round * flushes + f) * 1000));
                await engine.FlushAsync();
                output.Line(FormattableString.Invariant($"FLUSHED {key} {rows}"));
            }
            output.Line("OPTIMIZING");
            var result = await engine.OptimizeAsync();
            output.Line("OPTIMIZED " + (result.DeltaVersion ?? -1).ToString(CultureInfo.InvariantCulture));
        }
    }
}
