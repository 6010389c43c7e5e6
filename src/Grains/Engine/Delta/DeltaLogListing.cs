using TimeFusion.Storage;

namespace TimeFusion.Delta;

/// <summary>
/// What a listing of <c>_delta_log/</c> shows: commits, complete checkpoints and UUID-named checkpoints by version.
/// Only files directly inside the folder count (not <c>.tmp/</c>, <c>_sidecars/</c>, …); unknown names are ignored.
/// </summary>
internal sealed class DeltaLogListing
{
    public SortedDictionary<long, DeltaLogFile> Commits { get; } = new();

    /// <summary>Complete checkpoints by version: a classic file, or every part of a multi-part one.</summary>
    public SortedDictionary<long, IReadOnlyList<DeltaLogFile>> Checkpoints { get; } = new();

    public SortedDictionary<long, DeltaLogFile> UuidCheckpoints { get; } = new();

    public bool IsEmpty => Commits.Count == 0 && Checkpoints.Count == 0;

    /// <summary>The newest version the log reaches (commits or checkpoints), or -1.</summary>
    public long LatestVersion => Math.Max(Commits.Count > 0 ? Commits.Keys.Max() : -1, Checkpoints.Count > 0 ? Checkpoints.Keys.Max() : -1);

    /// <summary>Whether commits <paramref name="from"/>..<paramref name="to"/> (inclusive) are all present.</summary>
    public bool HasCommits(long from, long to)
    {
        for (var v = from; v <= to; v++)
        {
            if (!Commits.ContainsKey(v)) return false;
        }
        return true;
    }

    public static async Task<DeltaLogListing> ListAsync(IObjectStore store, string tableRoot, CancellationToken ct)
    {
        var prefix = DeltaLogPaths.LogPrefix(tableRoot);
        var objects = await store.ListAsync(prefix, ct);
        var listing = new DeltaLogListing();
        var multiPart = new Dictionary<(long Version, int Parts), List<DeltaLogFile>>();
        foreach (var o in objects)
        {
            if (!o.Path.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var name = o.Path[prefix.Length..];
            if (name.Contains('/')) continue;
            if (!DeltaLogPaths.TryParseLogFileName(name, out var kind, out var version, out var part, out var parts)) continue;
            var file = new DeltaLogFile(o.Path, kind, version, part, parts, o.Size);
            switch (kind)
            {
                case DeltaLogFileKind.Commit:
                    listing.Commits[version] = file;
                    break;
                case DeltaLogFileKind.Checkpoint:
                    listing.Checkpoints[version] = [file];
                    break;
                case DeltaLogFileKind.MultiPartCheckpoint:
                    if (!multiPart.TryGetValue((version, parts), out var list)) multiPart[(version, parts)] = list = [];
                    list.Add(file);
                    break;
                case DeltaLogFileKind.UuidCheckpoint:
                    listing.UuidCheckpoints[version] = file;
                    break;
            }
        }
        // A multi-part checkpoint counts only with all of its parts (a writer may have died half-way). A classic
        // checkpoint of the same version is preferred.
        foreach (var ((version, parts), files) in multiPart)
        {
            if (listing.Checkpoints.ContainsKey(version)) continue;
            var distinct = files.DistinctBy(f => f.Part).OrderBy(f => f.Part).ToList();
            if (distinct.Count == parts) listing.Checkpoints[version] = distinct;
        }
        return listing;
    }
}
