using TimeFusion.Delta;
using TimeFusion.Storage;

namespace TimeFusion.Maintenance;

/// <summary>
/// Cleans <c>_delta_log</c>: checkpoints stay as they are (every N commits); commits and checkpoints older than the
/// log retention are deleted, but only below the newest checkpoint that is itself older than the retention, so that
/// every version from that checkpoint on stays readable (the checkpoint plus the commits after it), as Delta's
/// <c>delta.logRetentionDuration</c> cleanup does. Versions before that checkpoint can no longer be read.
/// </summary>
internal static class DeltaLogCleanup
{
    /// <summary>Deletes the expired log files of <paramref name="delta"/>; returns how many.</summary>
    public static async Task<int> CleanAsync(DeltaTable delta, DeltaSnapshot current, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var listed = await delta.Store.ListAsync(DeltaLogPaths.LogPrefix(delta.TableRoot), cancellationToken);
        var files = new List<(ObjectInfo Info, DeltaLogFileKind Kind, long Version)>();
        foreach (var o in listed)
        {
            var name = o.Path[(o.Path.LastIndexOf('/') + 1)..];
            if (DeltaLogPaths.TryParseLogFileName(name, out var kind, out var version, out _, out _))
                files.Add((o, kind, version));
        }
        // The newest classic checkpoint at or below the current version that is older than the retention.
        var keepFrom = files.Where(f => f.Kind == DeltaLogFileKind.Checkpoint && f.Version <= current.Version && f.Info.LastModified < cutoff)
            .Select(f => (long?)f.Version).Max();
        if (keepFrom is not { } checkpoint) return 0;
        var deleted = 0;
        foreach (var f in files)
        {
            if (f.Version >= checkpoint || f.Info.LastModified >= cutoff) continue;
            await delta.Store.DeleteAsync(f.Info.Path, cancellationToken);
            deleted++;
        }
        return deleted;
    }
}
