using TimeFusion.Delta.Actions;

namespace TimeFusion.Delta;

/// <summary>
/// The mutable state of a log replay (PROTOCOL.md, "Action Reconciliation"): the latest protocol and metadata win,
/// the latest <c>txn</c> per app id wins, and for each logical file (path + deletion-vector id) the newest
/// <c>add</c> or <c>remove</c> wins. <see cref="Freeze"/> validates it and hands it to a <see cref="DeltaSnapshot"/>.
/// </summary>
internal sealed class DeltaLogState
{
    private bool _reparsePartitions;

    public long Version { get; private set; } = -1;
    public ProtocolAction? Protocol { get; private set; }
    public MetadataAction? Metadata { get; private set; }
    public Dictionary<string, AddFile> Files { get; }
    public Dictionary<string, RemoveFile> Tombstones { get; }
    public Dictionary<string, TransactionAction> Transactions { get; }

    private DeltaLogState(Dictionary<string, AddFile> files, Dictionary<string, RemoveFile> tombstones, Dictionary<string, TransactionAction> txns)
    {
        Files = files;
        Tombstones = tombstones;
        Transactions = txns;
    }

    public static DeltaLogState Empty() =>
        new(new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal));

    /// <summary>A copy of a snapshot's state, to apply newer commits to (the snapshot stays unchanged).</summary>
    public static DeltaLogState From(DeltaSnapshot snapshot) =>
        new(new(snapshot.FilesByKey, StringComparer.Ordinal), new(snapshot.TombstonesByKey, StringComparer.Ordinal),
            new(snapshot.Transactions, StringComparer.Ordinal))
        {
            Version = snapshot.Version,
            Protocol = snapshot.Protocol,
            Metadata = snapshot.Metadata,
        };

    /// <summary>Loads a checkpoint: its <c>remove</c> rows are tombstones only.</summary>
    public void ApplyCheckpoint(long version, IEnumerable<DeltaAction> actions)
    {
        foreach (var a in actions) Apply(a);
        Version = version;
    }

    /// <summary>Applies the actions of commit <paramref name="version"/> (which must follow the current version).</summary>
    public void ApplyCommit(long version, IEnumerable<DeltaAction> actions)
    {
        if (version != Version + 1)
            throw new InvalidOperationException($"commit {version} applied on top of version {Version}");
        foreach (var a in actions) Apply(a);
        Version = version;
    }

    private void Apply(DeltaAction action)
    {
        switch (action)
        {
            case AddFile add:
            {
                var key = add.Key;
                Files[key] = add.ParsedPartitionValues is null ? add : add with { ParsedPartitionValues = null };
                Tombstones.Remove(key);
                break;
            }
            case RemoveFile remove:
            {
                var key = remove.Key;
                Files.Remove(key);
                Tombstones[key] = remove;
                break;
            }
            case TransactionAction txn:
                Transactions[txn.AppId] = txn;
                break;
            case MetadataAction metadata:
                if (Metadata is null || !Metadata.PartitionColumns.SequenceEqual(metadata.PartitionColumns, StringComparer.Ordinal)
                    || Metadata.SchemaString != metadata.SchemaString)
                    _reparsePartitions = true;
                Metadata = metadata;
                break;
            case ProtocolAction protocol:
                Protocol = protocol;
                break;
            // commitInfo, cdc, domainMetadata and unknown actions do not change the snapshot.
        }
    }

    /// <summary>
    /// Validates the replayed state (protocol and metadata present and readable, no deletion vectors) and turns it
    /// into a snapshot, parsing the partition values of files that do not have them yet.
    /// </summary>
    public DeltaSnapshot Freeze(string tableRoot, long? checkpointVersion, string location)
    {
        if (Protocol is null) throw new DeltaLogCorruptException($"Delta table {location} version {Version}: no protocol action in the log");
        if (Metadata is null) throw new DeltaLogCorruptException($"Delta table {location} version {Version}: no metaData action in the log");
        DeltaProtocolSupport.EnsureReadable(Protocol, Metadata, location);

        var partitionTypes = PartitionTypes(Metadata, location);
        foreach (var key in Files.Keys.ToList())
        {
            var file = Files[key];
            if (file.DeletionVector is not null)
                throw new DeltaUnsupportedFeatureException(
                    $"cannot read Delta table {location}: file '{file.Path}' has a deletion vector (feature 'deletionVectors'), which this reader does not support",
                    ["deletionVectors"]);
            if (file.ParsedPartitionValues is null || _reparsePartitions)
                Files[key] = file with { ParsedPartitionValues = ParsePartitions(file, partitionTypes, location) };
        }
        _reparsePartitions = false;
        return new DeltaSnapshot(tableRoot, Version, Protocol, Metadata, Files, Tombstones, Transactions, checkpointVersion);
    }

    private static List<(string Column, string Type)> PartitionTypes(MetadataAction metadata, string location)
    {
        var result = new List<(string, string)>(metadata.PartitionColumns.Count);
        if (metadata.PartitionColumns.Count == 0) return result;
        var fields = DeltaSchemaField.ParseAll(metadata.SchemaString);
        foreach (var column in metadata.PartitionColumns)
        {
            var field = fields.FirstOrDefault(f => f.Name == column)
                ?? fields.FirstOrDefault(f => string.Equals(f.Name, column, StringComparison.OrdinalIgnoreCase))
                ?? throw new DeltaLogCorruptException($"Delta table {location}: partition column '{column}' is not in the schema");
            if (!field.IsPrimitive)
                throw new DeltaLogCorruptException($"Delta table {location}: partition column '{column}' has a complex type");
            result.Add((column, field.Type));
        }
        return result;
    }

    private static Dictionary<string, object?> ParsePartitions(AddFile file, List<(string Column, string Type)> types, string location)
    {
        var parsed = new Dictionary<string, object?>(types.Count, StringComparer.Ordinal);
        foreach (var (column, type) in types)
        {
            if (!file.PartitionValues.TryGetValue(column, out var raw))
            {
                var match = file.PartitionValues.Keys.FirstOrDefault(k => string.Equals(k, column, StringComparison.OrdinalIgnoreCase));
                if (match is null) continue; // no value recorded: unknown, so pruning keeps the file
                raw = file.PartitionValues[match];
            }
            try
            {
                parsed[column] = DeltaPartitionValues.Parse(raw, type, column);
            }
            catch (DeltaLogCorruptException e)
            {
                throw new DeltaLogCorruptException($"Delta table {location}, file '{file.Path}': {e.Message}", e);
            }
        }
        return parsed;
    }
}
