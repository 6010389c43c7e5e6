using TimeFusion.Delta.Actions;

namespace TimeFusion.Delta;

/// <summary>
/// Decides whether this implementation may read or write a table, from its <c>protocol</c> (and, for column
/// mapping, its configuration). We implement reader version 1 — plus reader 2/3 where every feature they demand is
/// trivially satisfied — and writer version 2. Anything else is refused with
/// <see cref="DeltaUnsupportedFeatureException"/> naming the version and features: reading a table while ignoring
/// a feature (deletion vectors, column mapping, v2 checkpoints, …) gives wrong answers.
/// </summary>
public static class DeltaProtocolSupport
{
    /// <summary>The highest reader version whose rules we follow (features permitting).</summary>
    public const int MaxReaderVersion = 3;

    /// <summary>The writer version we implement (append-only tables and column invariants respected).</summary>
    public const int WriterVersion = 2;

    /// <summary>Reader features that require nothing of a reader that only reads the log and Parquet files by name.</summary>
    private static readonly HashSet<string> FreeReaderFeatures = new(StringComparer.Ordinal) { "vacuumProtocolCheck" };

    /// <summary>Writer features (at writer version 7) that writer version 2 already respects.</summary>
    private static readonly HashSet<string> SupportedWriterFeatures = new(StringComparer.Ordinal) { "appendOnly", "invariants" };

    /// <summary>Feature names defined by the Delta protocol (anything else is reported as unknown).</summary>
    private static readonly HashSet<string> KnownFeatures = new(StringComparer.Ordinal)
    {
        "appendOnly", "invariants", "checkConstraints", "generatedColumns", "allowColumnDefaults", "changeDataFeed",
        "columnMapping", "identityColumns", "deletionVectors", "rowTracking", "timestampNtz", "domainMetadata",
        "v2Checkpoint", "catalogManaged", "icebergCompatV1", "icebergCompatV2", "clustering", "vacuumProtocolCheck",
        "inCommitTimestamp", "typeWidening", "variantType", "variantShredding",
    };

    /// <summary>Throws unless this implementation can read the table correctly.</summary>
    /// <exception cref="DeltaUnsupportedFeatureException">The reader version or a reader feature is not supported.</exception>
    public static void EnsureReadable(ProtocolAction protocol, MetadataAction? metadata, string table)
    {
        var problem = ReadProblem(protocol, metadata, out var features);
        if (problem is not null)
            throw new DeltaUnsupportedFeatureException($"cannot read Delta table {table}: {problem}", features);
    }

    /// <summary>Throws unless this implementation can both read and write the table correctly.</summary>
    /// <exception cref="DeltaUnsupportedFeatureException">A reader or writer version/feature is not supported.</exception>
    public static void EnsureWritable(ProtocolAction protocol, MetadataAction metadata, string table)
    {
        var problem = ReadProblem(protocol, metadata, out var features) ?? WriteProblem(protocol, metadata, out features);
        if (problem is not null)
            throw new DeltaUnsupportedFeatureException($"cannot write Delta table {table}: {problem}", features);
    }

    /// <summary>Whether the table's configuration makes it append-only (<c>delta.appendOnly=true</c>).</summary>
    public static bool IsAppendOnly(MetadataAction metadata) =>
        metadata.Configuration.TryGetValue("delta.appendOnly", out var v) && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);

    private static string? ReadProblem(ProtocolAction p, MetadataAction? metadata, out IReadOnlyList<string> features)
    {
        features = [];
        var mappingMode = ColumnMappingMode(metadata);
        var mappingActive = mappingMode is not ("none" or null);
        switch (p.MinReaderVersion)
        {
            case 1:
                return null;
            case 2:
                // Reader 2 means "respect column mapping"; in mode none (or unset) that is reading by name, as we do.
                if (!mappingActive) return null;
                features = ["columnMapping"];
                return $"it requires reader version 2 with column mapping mode '{mappingMode}' (reader feature columnMapping), which this reader does not support";
            case 3:
            {
                if (p.ReaderFeatures is null)
                {
                    features = [];
                    return "it has reader version 3 but no readerFeatures list (invalid protocol)";
                }
                var unsupported = p.ReaderFeatures
                    .Where(f => !FreeReaderFeatures.Contains(f) && !(f == "columnMapping" && !mappingActive))
                    .Distinct(StringComparer.Ordinal)
                    .ToList();
                if (unsupported.Count == 0) return null;
                features = Order(unsupported);
                return $"it requires reader feature(s) {Describe(features)}, which this reader does not support";
            }
            default:
            {
                var listed = (p.ReaderFeatures ?? []).Where(f => !FreeReaderFeatures.Contains(f)).Distinct(StringComparer.Ordinal).ToList();
                features = Order(listed);
                var version = p.MinReaderVersion > MaxReaderVersion
                    ? $"reader version {p.MinReaderVersion}, which is newer than any this reader implements (1–{MaxReaderVersion})"
                    : $"reader version {p.MinReaderVersion}, which is not a valid Delta reader version";
                return features.Count == 0
                    ? $"it requires {version}"
                    : $"it requires {version}, and reader feature(s) {Describe(features)}, which this reader does not support";
            }
        }
    }

    private static string? WriteProblem(ProtocolAction p, MetadataAction metadata, out IReadOnlyList<string> features)
    {
        features = [];
        if (p.MinWriterVersion is >= 1 and <= WriterVersion)
        {
            // Writer 2 requires respecting column invariants: we never define any, and refuse to write tables that do.
            if (HasInvariants(metadata))
            {
                features = ["invariants"];
                return "its schema has column invariants (delta.invariants), which this writer does not enforce";
            }
            return null;
        }
        if (p.MinWriterVersion == 7)
        {
            var unsupported = (p.WriterFeatures ?? []).Where(f => !SupportedWriterFeatures.Contains(f)).Distinct(StringComparer.Ordinal).ToList();
            if (p.WriterFeatures is null) return "it has writer version 7 but no writerFeatures list (invalid protocol)";
            if (unsupported.Count > 0)
            {
                features = Order(unsupported);
                return $"it requires writer feature(s) {Describe(features)}, which this writer does not support";
            }
            if (HasInvariants(metadata))
            {
                features = ["invariants"];
                return "its schema has column invariants (delta.invariants), which this writer does not enforce";
            }
            return null;
        }
        return p.MinWriterVersion > WriterVersion
            ? $"it requires writer version {p.MinWriterVersion} (this writer implements {WriterVersion})"
            : $"it requires writer version {p.MinWriterVersion}, which is not a valid Delta writer version";
    }

    private static string? ColumnMappingMode(MetadataAction? metadata) =>
        metadata is not null && metadata.Configuration.TryGetValue("delta.columnMapping.mode", out var m) ? m.ToLowerInvariant() : null;

    private static bool HasInvariants(MetadataAction metadata) =>
        metadata.SchemaString.Contains("delta.invariants", StringComparison.Ordinal);

    /// <summary>Unknown features first (they are the surprising ones), then known ones, each alphabetically.</summary>
    private static List<string> Order(IEnumerable<string> features) =>
        features.OrderBy(f => KnownFeatures.Contains(f) ? 1 : 0).ThenBy(f => f, StringComparer.Ordinal).ToList();

    private static string Describe(IReadOnlyList<string> features) =>
        string.Join(", ", features.Select(f => KnownFeatures.Contains(f) ? $"'{f}'" : $"'{f}' (unknown)"));
}
