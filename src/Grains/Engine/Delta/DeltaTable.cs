using TimeFusion.Delta.Actions;
using TimeFusion.Storage;
using TimeFusion.Tables;

namespace TimeFusion.Delta;

/// <summary>
/// A Delta Lake table in an <see cref="IObjectStore"/> under a relative root (<c>{root}/_delta_log/</c> holds its
/// log). Loads snapshots (from the newest usable checkpoint plus JSON commits), creates tables, and commits new
/// versions put-if-absent — a lost race is rebased (blind appends only) or reported, never overwritten — writing
/// a Parquet checkpoint every <see cref="DeltaOptions.CheckpointInterval"/> commits. Stateless and thread-safe.
/// </summary>
public sealed class DeltaTable
{
    /// <summary>Creates a handle on the table at <paramref name="tableRoot"/> ('' for the store root); nothing is read or written.</summary>
    public DeltaTable(IObjectStore store, string tableRoot, DeltaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(tableRoot);
        Store = store;
        TableRoot = tableRoot.Trim('/');
        Options = options ?? new DeltaOptions();
    }

    /// <summary>The object store.</summary>
    public IObjectStore Store { get; }

    /// <summary>The table's root folder in the store.</summary>
    public string TableRoot { get; }

    /// <summary>The options.</summary>
    public DeltaOptions Options { get; }

    private string Location => DeltaLogReplay.Describe(Store, TableRoot);

    /// <summary>
    /// Loads the snapshot at <paramref name="version"/> (default: the latest), or null when no table exists here.
    /// </summary>
    /// <exception cref="DeltaUnsupportedFeatureException">The table needs a feature this reader lacks.</exception>
    /// <exception cref="DeltaVersionNotFoundException">The version does not exist or cannot be reconstructed.</exception>
    /// <exception cref="DeltaLogCorruptException">The log is invalid.</exception>
    public Task<DeltaSnapshot?> LoadSnapshotAsync(long? version = null, CancellationToken ct = default) =>
        DeltaLogReplay.LoadAsync(Store, TableRoot, version, Options, useCheckpoints: true, ct);

    /// <summary>Loads by replaying JSON commits only, ignoring checkpoints (for verification and measurement).</summary>
    internal Task<DeltaSnapshot?> LoadSnapshotWithoutCheckpointsAsync(long? version = null, CancellationToken ct = default) =>
        DeltaLogReplay.LoadAsync(Store, TableRoot, version, Options, useCheckpoints: false, ct);

    /// <summary>Brings <paramref name="snapshot"/> up to the latest version by reading only the newer commits.</summary>
    public async Task<DeltaSnapshot> UpdateSnapshotAsync(DeltaSnapshot snapshot, CancellationToken ct = default)
    {
        CheckOwn(snapshot);
        return (await DeltaLogReplay.UpdateAsync(Store, snapshot, Options, ct)).Snapshot;
    }

    /// <summary>Loads the latest snapshot of an existing table of ours and checks that it belongs to <paramref name="id"/>.</summary>
    /// <exception cref="DeltaTableNotFoundException">No table exists here.</exception>
    /// <exception cref="DeltaTableIdentityException">The table belongs to another (project, table).</exception>
    public async Task<DeltaSnapshot> OpenAsync(TableId id, CancellationToken ct = default)
    {
        var snapshot = await LoadSnapshotAsync(null, ct)
            ?? throw new DeltaTableNotFoundException($"no Delta table exists at {Location}");
        DeltaTableIdentity.Verify(snapshot, id, Location);
        return snapshot;
    }

    /// <summary>
    /// Opens the table of <paramref name="id"/>, creating it (version 0, partitioned by <c>date</c>) when absent.
    /// An existing table must carry the same identity; its schema is returned as stored (schema changes are the
    /// caller's business).
    /// </summary>
    /// <exception cref="DeltaTableIdentityException">The folder holds another (project, table)'s table.</exception>
    public async Task<DeltaSnapshot> OpenOrCreateAsync(TableId id, TableSchema schema, CancellationToken ct = default)
    {
        var existing = await LoadSnapshotAsync(null, ct);
        if (existing is null)
        {
            var created = await DeltaTableCreator.CreateAsync(this, schema.ToDeltaSchemaString(), [TableSchema.DateColumn],
                new Dictionary<string, string>(), id, schema.Name, ct);
            if (created is not null) return created;
            existing = await LoadSnapshotAsync(null, ct)
                ?? throw new DeltaLogCorruptException($"Delta table {Location}: version 0 exists but the log cannot be listed");
        }
        DeltaTableIdentity.Verify(existing, id, Location);
        return existing;
    }

    /// <summary>
    /// Commits <paramref name="actions"/> as version <c>readSnapshot.Version + 1</c> (preceded by a
    /// <c>commitInfo</c> naming <paramref name="operation"/>), written put-if-absent. If another writer took that
    /// version, the commit is rebased onto the winners only when it is a blind append (adds and txns only) whose
    /// <c>txn</c> app ids and the table's protocol/metadata the winners left untouched; otherwise it fails with
    /// <see cref="DeltaConcurrentCommitException"/> and nothing is written. Writes a checkpoint when one is due.
    /// </summary>
    /// <returns>The snapshot after the commit (its <see cref="DeltaSnapshot.Version"/> is the committed version).</returns>
    /// <exception cref="DeltaConcurrentCommitException">Lost the race and could not rebase.</exception>
    /// <exception cref="DeltaCheckpointException">Committed, but the checkpoint due afterwards failed.</exception>
    /// <exception cref="DeltaUnsupportedFeatureException">The table needs a writer feature we lack, or is append-only.</exception>
    /// <exception cref="ArgumentException">Invalid actions (duplicates, bad paths, partition values, removes of absent files).</exception>
    public async Task<DeltaSnapshot> CommitAsync(DeltaSnapshot readSnapshot, IReadOnlyList<DeltaAction> actions, string operation,
        CancellationToken ct = default, IReadOnlyDictionary<string, string>? operationParameters = null)
    {
        CheckOwn(readSnapshot);
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentException.ThrowIfNullOrEmpty(operation);
        var blindAppend = actions.All(a => a is AddFile or TransactionAction);
        var basis = readSnapshot;
        for (var attempt = 1; ; attempt++)
        {
            DeltaCommitValidator.Validate(basis, actions);
            var version = basis.Version + 1;
            var commitInfo = new CommitInfoAction
            {
                Timestamp = Options.Clock.GetUtcNow().ToUnixTimeMilliseconds(),
                Operation = operation,
                OperationParameters = operationParameters,
                ReadVersion = readSnapshot.Version,
                IsBlindAppend = blindAppend,
                EngineInfo = Options.EngineInfo,
            };
            var bytes = DeltaJson.SerializeCommit([commitInfo, .. actions]);
            // The resulting snapshot is built before writing, so that nothing can fail after the commit is durable.
            DeltaSnapshot committed;
            try
            {
                committed = DeltaLogReplay.Apply(basis, version, actions, Store);
            }
            catch (DeltaLogCorruptException e)
            {
                throw new ArgumentException($"the commit's actions are invalid: {e.Message}", nameof(actions), e);
            }
            if (await Store.PutIfAbsentAsync(DeltaLogPaths.CommitPath(TableRoot, version), bytes, ct))
            {
                if (Options.CheckpointInterval > 0 && version % Options.CheckpointInterval == 0)
                {
                    try
                    {
                        await WriteCheckpointAsync(committed, ct);
                    }
                    catch (Exception e)
                    {
                        // Even a cancellation here must not read as "not committed": the version is durable.
                        throw new DeltaCheckpointException(
                            $"Delta table {Location}: version {version} was committed, but writing its checkpoint failed: {e.Message}", committed, e);
                    }
                }
                return committed;
            }

            // Lost the race for `version`: read what the winners committed.
            var (latest, winners) = await DeltaLogReplay.UpdateAsync(Store, basis, Options, ct);
            var refusal = RebaseRefusal(actions, blindAppend, winners, latest.Version > basis.Version);
            if (refusal is not null)
                throw new DeltaConcurrentCommitException(
                    $"Delta table {Location}: version {version} was committed by another writer (read version {readSnapshot.Version}, now at {latest.Version}); {refusal}",
                    version, readSnapshot.Version);
            if (attempt >= Options.MaxCommitAttempts)
                throw new DeltaConcurrentCommitException(
                    $"Delta table {Location}: gave up after {attempt} attempts; version {version} was taken again by another writer (read version {readSnapshot.Version})",
                    version, readSnapshot.Version);
            basis = latest;
        }
    }

    /// <summary>
    /// Writes the Parquet checkpoint of <paramref name="snapshot"/> (<c>{version}.checkpoint.parquet</c>) and then
    /// points <c>_last_checkpoint</c> at it, unless that already names a newer checkpoint.
    /// </summary>
    public async Task WriteCheckpointAsync(DeltaSnapshot snapshot, CancellationToken ct = default)
    {
        CheckOwn(snapshot);
        var cutoff = Options.Clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)Options.TombstoneRetention.TotalMilliseconds;
        var checkpoint = CheckpointWriter.Write(snapshot, cutoff);
        await Store.PutAsync(DeltaLogPaths.CheckpointPath(TableRoot, snapshot.Version), checkpoint.Content, ct);

        var pointerPath = DeltaLogPaths.LastCheckpointPath(TableRoot);
        LastCheckpoint? current = null;
        try
        {
            current = LastCheckpoint.TryParse(await Store.ReadAllAsync(pointerPath, ct));
        }
        catch (ObjectNotFoundException)
        {
            // No pointer yet: write the first one.
        }
        if (current is not null && current.Version > snapshot.Version) return;
        var pointer = new LastCheckpoint(snapshot.Version, checkpoint.ActionCount, null, checkpoint.Content.Length, checkpoint.AddCount);
        await Store.PutAsync(pointerPath, pointer.ToJson(), ct);
    }

    /// <summary>The object-store path (from the store root) of a file given relative to the table root.</summary>
    public string ObjectPath(string relativePath) => DeltaLogPaths.Join(TableRoot, relativePath);

    /// <summary>Why a lost commit may not be rebased onto the winners, or null when it may.</summary>
    private static string? RebaseRefusal(IReadOnlyList<DeltaAction> actions, bool blindAppend, IReadOnlyList<DeltaCommit>? winners, bool progressed)
    {
        if (!blindAppend) return "the commit is not a blind append (it removes files or changes protocol/metadata), so it cannot be rebased";
        if (winners is null) return "the winning commits could not all be read (the log was cleaned up meanwhile)";
        if (!progressed) return "the winning commit is not visible in the log listing";
        var ourApps = actions.OfType<TransactionAction>().Select(t => t.AppId).ToHashSet(StringComparer.Ordinal);
        foreach (var w in winners)
        {
            foreach (var a in w.Actions)
            {
                switch (a)
                {
                    case ProtocolAction:
                        return $"version {w.Version} changed the protocol";
                    case MetadataAction:
                        return $"version {w.Version} changed the table metadata";
                    case TransactionAction t when ourApps.Contains(t.AppId):
                        return $"version {w.Version} committed txn version {t.Version} for app '{t.AppId}' underneath this commit";
                }
            }
        }
        return null;
    }

    private void CheckOwn(DeltaSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.TableRoot != TableRoot)
            throw new ArgumentException($"snapshot of '{snapshot.TableRoot}' used with table '{TableRoot}'", nameof(snapshot));
    }
}
