using TimeFusion.Delta;
using TimeFusion.Storage;

namespace TimeFusion.Maintenance;

/// <summary>What a VACUUM deleted.</summary>
/// <param name="FilesDeleted">Data files deleted.</param>
/// <param name="BytesDeleted">Their bytes.</param>
/// <param name="OrphansDeleted">Of those, files the log never referenced (a crash between upload and commit left them), and
/// temporary <c>.tmp-</c> files a crash left half-written.</param>
/// <param name="LogFilesDeleted">Old <c>_delta_log</c> files deleted by the log cleanup that follows.</param>
public sealed record VacuumResult(int FilesDeleted, long BytesDeleted, int OrphansDeleted, int LogFilesDeleted);

/// <summary>
/// VACUUM: chooses the data files under a table's root that no version within the retention window references
/// (<see cref="PlanAsync"/>) and deletes them (<see cref="DeleteAsync"/>). Kept: every file of the current snapshot, of a
/// snapshot pinned by a running reader and being written by a writer (<see cref="SnapshotPins"/>), and every file a
/// <c>remove</c> took away less than the retention ago (older versions that are still time-travel targets read it).
/// A file the log does not know (an orphan) goes once it is older than the retention, and so does a temporary
/// <c>.tmp-</c> file a crash left between writing and renaming (in the log folder too: it is never read). Otherwise files and
/// folders whose name starts with <c>_</c> or <c>.</c> (the log) are never touched. The caller decides under its commit lock, so that no
/// commit lands between the listing and the decision.
/// </summary>
internal static class DeltaVacuum
{
    /// <summary>The files to delete (object paths from the store root, with sizes), and how many of them are orphans.</summary>
    /// <remarks>A temporary file goes once older than <paramref name="cutoff"/> and an hour (<see cref="MinTemporaryAge"/>),
    /// even under <c>RETAIN 0 HOURS</c>: a younger one may be an upload in progress, whose rename would then fail.
    /// <paramref name="stagedPaths"/> (files of open write transactions) is read after the listing: a transaction names a
    /// spilled file before it uploads it, so every such file the listing holds is named by then (read before the listing,
    /// a spill landing in between was deleted as an orphan under <c>RETAIN 0 HOURS</c>).</remarks>
    public static async Task<(List<ObjectInfo> Delete, int Orphans)> PlanAsync(DeltaTable delta, DeltaSnapshot current, HashSet<string> protectedPaths,
        Func<IEnumerable<string>> stagedPaths, DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var keep = new HashSet<string>(protectedPaths, StringComparer.Ordinal);
        foreach (var f in current.Files) keep.Add(f.DataPath);
        var tombstones = new HashSet<string>(StringComparer.Ordinal);
        var cutoffMillis = cutoff.ToUnixTimeMilliseconds();
        foreach (var t in current.Tombstones)
        {
            tombstones.Add(t.DataPath);
            if ((t.DeletionTimestamp ?? 0) > cutoffMillis) keep.Add(t.DataPath);
        }
        var prefix = delta.TableRoot.Length == 0 ? "" : delta.TableRoot.TrimEnd('/') + "/";
        var listed = await delta.Store.ListAsync(prefix, cancellationToken);
        keep.UnionWith(stagedPaths());
        var delete = new List<ObjectInfo>();
        var orphans = 0;
        foreach (var o in listed)
        {
            var relative = o.Path[prefix.Length..];
            if (IsHidden(relative) || keep.Contains(relative)) continue;
            if (tombstones.Contains(relative))
            {
                delete.Add(o); // removed before the window: no version within it reads the file
                continue;
            }
            // Unknown to the log: an orphan once it is older than the window (younger ones may belong to a writer at work).
            if (o.LastModified < cutoff)
            {
                delete.Add(o);
                orphans++;
            }
        }
        // Temporaries a crash left mid-write are never referenced by anything: gone once older than the window (a younger
        // one may be a write in progress).
        var temporaryCutoff = cutoff < now - MinTemporaryAge ? cutoff : now - MinTemporaryAge;
        foreach (var o in await delta.Store.ListTemporaryAsync(prefix, cancellationToken))
        {
            if (o.LastModified < temporaryCutoff)
            {
                delete.Add(o);
                orphans++;
            }
        }
        return (delete, orphans);
    }

    /// <summary>How old a temporary file must at least be before VACUUM takes it for abandoned, whatever the window.</summary>
    public static readonly TimeSpan MinTemporaryAge = TimeSpan.FromHours(1);

    /// <summary>Deletes the planned files; returns how many and their bytes.</summary>
    public static async Task<(int Files, long Bytes)> DeleteAsync(IObjectStore store, IReadOnlyList<ObjectInfo> files, CancellationToken cancellationToken)
    {
        long bytes = 0;
        foreach (var f in files)
        {
            await store.DeleteAsync(f.Path, cancellationToken);
            bytes += f.Size;
        }
        return (files.Count, bytes);
    }

    private static bool IsHidden(string relative)
    {
        foreach (var segment in relative.Split('/'))
        {
            if (segment.StartsWith('_') || segment.StartsWith('.')) return true;
        }
        return false;
    }
}
