using TimeFusion.Delta.Actions;
using TimeFusion.Storage;

namespace TimeFusion.Delta;

/// <summary>One commit's actions.</summary>
/// <param name="Version">The commit version.</param>
/// <param name="Actions">Its actions, in file order.</param>
internal sealed record DeltaCommit(long Version, IReadOnlyList<DeltaAction> Actions);

/// <summary>
/// Reconstructs snapshots from the log: list <c>_delta_log/</c>, start from the newest complete checkpoint at or
/// below the wanted version whose later commits all exist (<c>_last_checkpoint</c> is only a hint — the listing
/// decides), then apply the JSON commits in order. Nothing is ever written.
/// </summary>
internal static class DeltaLogReplay
{
    public static async Task<DeltaSnapshot?> LoadAsync(IObjectStore store, string tableRoot, long? version, DeltaOptions options,
        bool useCheckpoints, CancellationToken ct)
    {
        var location = Describe(store, tableRoot);
        var listing = await DeltaLogListing.ListAsync(store, tableRoot, ct);
        if (listing.IsEmpty) return null;
        var latest = listing.LatestVersion;
        if (version is < 0) throw new ArgumentOutOfRangeException(nameof(version), version, "versions start at 0");
        var target = version ?? latest;
        if (target > latest)
            throw new DeltaVersionNotFoundException($"Delta table {location} has no version {target} (latest is {latest})");

        long start = -1;
        IReadOnlyList<DeltaLogFile>? checkpoint = null;
        if (useCheckpoints)
        {
            foreach (var (cpVersion, files) in listing.Checkpoints.Reverse())
            {
                if (cpVersion > target) continue;
                if (!listing.HasCommits(cpVersion + 1, target)) continue;
                start = cpVersion;
                checkpoint = files;
                break;
            }
        }
        if (checkpoint is null && !listing.HasCommits(0, target))
            await ThrowUnreconstructableAsync(store, listing, target, version is not null, location, ct);

        var state = DeltaLogState.Empty();
        if (checkpoint is not null)
        {
            var actions = new List<DeltaAction>();
            foreach (var part in checkpoint)
            {
                var bytes = await store.ReadAllAsync(part.Path, ct);
                actions.AddRange(await CheckpointReader.ReadAsync(bytes, part.Path, ct));
            }
            state.ApplyCheckpoint(start, actions);
        }
        var commits = await ReadCommitsAsync(store, listing, start + 1, target, options, ct);
        foreach (var c in commits) state.ApplyCommit(c.Version, c.Actions);
        return state.Freeze(tableRoot, checkpoint is null ? null : start, location);
    }

    /// <summary>
    /// Brings a snapshot up to the latest version by applying the commits after it; also returns those commits
    /// (null when they could not all be read, e.g. a log cleanup removed some, in which case the snapshot was
    /// reloaded in full).
    /// </summary>
    public static async Task<(DeltaSnapshot Snapshot, IReadOnlyList<DeltaCommit>? Commits)> UpdateAsync(IObjectStore store,
        DeltaSnapshot current, DeltaOptions options, CancellationToken ct)
    {
        var location = Describe(store, current.TableRoot);
        var listing = await DeltaLogListing.ListAsync(store, current.TableRoot, ct);
        var latest = listing.LatestVersion;
        if (latest <= current.Version) return (current, []);
        if (!listing.HasCommits(current.Version + 1, latest))
        {
            var full = await LoadAsync(store, current.TableRoot, null, options, useCheckpoints: true, ct)
                ?? throw new DeltaLogCorruptException($"Delta table {location} disappeared");
            return (full, null);
        }
        var commits = await ReadCommitsAsync(store, listing, current.Version + 1, latest, options, ct);
        var state = DeltaLogState.From(current);
        foreach (var c in commits) state.ApplyCommit(c.Version, c.Actions);
        return (state.Freeze(current.TableRoot, current.CheckpointVersion, location), commits);
    }

    /// <summary>Applies already-written actions of version <c>snapshot.Version + 1</c> to a snapshot (our own commit).</summary>
    public static DeltaSnapshot Apply(DeltaSnapshot snapshot, long version, IReadOnlyList<DeltaAction> actions, IObjectStore store)
    {
        var state = DeltaLogState.From(snapshot);
        state.ApplyCommit(version, actions);
        return state.Freeze(snapshot.TableRoot, snapshot.CheckpointVersion, Describe(store, snapshot.TableRoot));
    }

    /// <summary>Reads and parses commits <paramref name="from"/>..<paramref name="to"/> concurrently, returned in version order.</summary>
    private static async Task<DeltaCommit[]> ReadCommitsAsync(IObjectStore store, DeltaLogListing listing, long from, long to,
        DeltaOptions options, CancellationToken ct)
    {
        var count = checked((int)(to - from + 1));
        if (count <= 0) return [];
        var result = new DeltaCommit[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.LogReadConcurrency), CancellationToken = ct },
            async (i, token) =>
            {
                var file = listing.Commits[from + i];
                var bytes = await store.ReadAllAsync(file.Path, token);
                result[i] = new DeltaCommit(from + i, DeltaJson.ParseCommit(bytes, file.Path));
            });
        return result;
    }

    private static async Task ThrowUnreconstructableAsync(IObjectStore store, DeltaLogListing listing, long target, bool requested,
        string location, CancellationToken ct)
    {
        // A table whose only usable starting point is a UUID-named (v2 spec) checkpoint: read its protocol so that
        // the refusal names the feature instead of reporting a damaged log.
        var uuid = listing.UuidCheckpoints.Where(kv => kv.Key <= target).Select(kv => kv.Value).LastOrDefault();
        if (uuid is not null)
        {
            if (uuid.Path.EndsWith(".json", StringComparison.Ordinal))
            {
                var actions = DeltaJson.ParseCommit(await store.ReadAllAsync(uuid.Path, ct), uuid.Path);
                var protocol = actions.OfType<ProtocolAction>().LastOrDefault();
                var metadata = actions.OfType<MetadataAction>().LastOrDefault();
                if (protocol is not null) DeltaProtocolSupport.EnsureReadable(protocol, metadata, location);
            }
            throw new DeltaUnsupportedFeatureException(
                $"cannot read Delta table {location}: version {target} can only be reconstructed from the v2 checkpoint {uuid.Path} (feature 'v2Checkpoint'), which this reader does not support",
                ["v2Checkpoint"]);
        }
        var missing = Enumerable.Range(0, (int)Math.Min(target + 1, int.MaxValue)).Select(i => (long)i).First(v => !listing.Commits.ContainsKey(v));
        var message = $"Delta table {location}: version {target} cannot be reconstructed: commit {missing} is missing and no checkpoint covers it";
        if (requested) throw new DeltaVersionNotFoundException(message);
        throw new DeltaLogCorruptException(message);
    }

    internal static string Describe(IObjectStore store, string tableRoot) => $"'{tableRoot}' in {store.Describe}";
}
