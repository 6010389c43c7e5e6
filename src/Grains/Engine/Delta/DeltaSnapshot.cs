using TimeFusion.Delta.Actions;
using TimeFusion.Tables;

namespace TimeFusion.Delta;

/// <summary>
/// The state of a Delta table at one version, after log replay: protocol, metadata, active files, tombstones and
/// application transaction versions. Immutable; a commit produces a new snapshot.
/// </summary>
public sealed class DeltaSnapshot
{
    private readonly Dictionary<string, AddFile> _files;
    private readonly Dictionary<string, RemoveFile> _tombstones;
    private readonly Dictionary<string, TransactionAction> _transactions;
    private IReadOnlyList<AddFile>? _fileList;
    private IReadOnlyList<RemoveFile>? _tombstoneList;
    private readonly Lazy<IReadOnlyList<DeltaSchemaField>> _schemaFields;

    internal DeltaSnapshot(string tableRoot, long version, ProtocolAction protocol, MetadataAction metadata,
        Dictionary<string, AddFile> files, Dictionary<string, RemoveFile> tombstones,
        Dictionary<string, TransactionAction> transactions, long? checkpointVersion)
    {
        TableRoot = tableRoot;
        Version = version;
        Protocol = protocol;
        Metadata = metadata;
        _files = files;
        _tombstones = tombstones;
        _transactions = transactions;
        CheckpointVersion = checkpointVersion;
        _schemaFields = new Lazy<IReadOnlyList<DeltaSchemaField>>(() => DeltaSchemaField.ParseAll(metadata.SchemaString));
    }

    /// <summary>The table's root folder in its object store.</summary>
    public string TableRoot { get; }

    /// <summary>The table version of this snapshot.</summary>
    public long Version { get; }

    /// <summary>The protocol in effect.</summary>
    public ProtocolAction Protocol { get; }

    /// <summary>The metadata in effect (schema string, partition columns, configuration).</summary>
    public MetadataAction Metadata { get; }

    /// <summary>The checkpoint version replay started from, or null for a replay of JSON commits only.</summary>
    public long? CheckpointVersion { get; }

    /// <summary>The active data files, with <see cref="AddFile.ParsedPartitionValues"/> set. Order is unspecified.</summary>
    public IReadOnlyList<AddFile> Files => _fileList ??= _files.Values.ToList();

    /// <summary>Remove tombstones (files that left the table, kept for VACUUM until they expire).</summary>
    public IReadOnlyList<RemoveFile> Tombstones => _tombstoneList ??= _tombstones.Values.ToList();

    /// <summary>The latest <c>txn</c> action per application id.</summary>
    public IReadOnlyDictionary<string, TransactionAction> Transactions => _transactions;

    /// <summary>The latest transaction version committed by <paramref name="appId"/>, or null if it never committed one.</summary>
    public long? TxnVersion(string appId) => _transactions.TryGetValue(appId, out var t) ? t.Version : null;

    /// <summary>The top-level fields of the schema.</summary>
    public IReadOnlyList<DeltaSchemaField> SchemaFields => _schemaFields.Value;

    /// <summary>The (project, table) recorded in the configuration, or null if TimeFusion did not create the table.</summary>
    public TableId? Identity => DeltaTableIdentity.Read(Metadata.Configuration);

    /// <summary>
    /// The schema as our <see cref="TableSchema"/> when the table is one of ours (it carries our identity), else null.
    /// </summary>
    /// <exception cref="SchemaException">The table is ours but its schema has a type we do not support.</exception>
    public TableSchema? TryGetTableSchema() =>
        Identity is { } id ? TableSchema.Create(id.Table, ColumnTypeMapping.FromDeltaSchemaString(Metadata.SchemaString)) : null;

    /// <summary>The sum of <c>numRecords</c> over active files, or null if any file has no row count in its stats.</summary>
    public long? TryCountRecords()
    {
        long total = 0;
        foreach (var f in Files)
        {
            if (f.GetStats()?.NumRecords is not { } n) return null;
            total += n;
        }
        return total;
    }

    /// <summary>The object-store path (from the store root) of a data file of this table.</summary>
    /// <exception cref="DeltaUnsupportedFeatureException">The log holds an absolute URI, which this store cannot address.</exception>
    public string ObjectPath(AddFile file)
    {
        var path = file.DataPath;
        if (DeltaLogPaths.IsAbsolute(path))
            throw new DeltaUnsupportedFeatureException($"data file '{file.Path}' has an absolute path; only paths relative to the table root are supported", []);
        return DeltaLogPaths.Join(TableRoot, path);
    }

    internal IReadOnlyDictionary<string, AddFile> FilesByKey => _files;

    internal IReadOnlyDictionary<string, RemoveFile> TombstonesByKey => _tombstones;
}
