using TimeFusion.Delta.Actions;

namespace TimeFusion.Delta;

/// <summary>
/// Checks the actions of a commit before anything is written: one action per logical file and type, at most one
/// protocol and one metadata, unique <c>txn</c> app ids, relative paths, partition values for exactly the
/// partition columns, removes of files that are in the table, and append-only tables left append-only.
/// </summary>
internal static class DeltaCommitValidator
{
    public static void Validate(DeltaSnapshot basis, IReadOnlyList<DeltaAction> actions)
    {
        if (actions.Count == 0) throw new ArgumentException("a commit needs at least one action", nameof(actions));
        DeltaProtocolSupport.EnsureWritable(basis.Protocol, basis.Metadata, $"'{basis.TableRoot}'");
        var protocol = basis.Protocol;
        var metadata = basis.Metadata;
        var adds = new HashSet<string>(StringComparer.Ordinal);
        var removes = new HashSet<string>(StringComparer.Ordinal);
        var apps = new HashSet<string>(StringComparer.Ordinal);
        var protocols = 0;
        var metadatas = 0;
        foreach (var a in actions)
        {
            switch (a)
            {
                case ProtocolAction p:
                    if (++protocols > 1) throw new ArgumentException("a commit may hold one protocol action", nameof(actions));
                    protocol = p;
                    break;
                case MetadataAction m:
                    if (++metadatas > 1) throw new ArgumentException("a commit may hold one metaData action", nameof(actions));
                    metadata = m;
                    break;
                case TransactionAction t:
                    if (string.IsNullOrEmpty(t.AppId)) throw new ArgumentException("txn action without an appId", nameof(actions));
                    if (!apps.Add(t.AppId)) throw new ArgumentException($"two txn actions for app '{t.AppId}' in one commit", nameof(actions));
                    break;
                case AddFile:
                case RemoveFile:
                    break;
                case CommitInfoAction:
                    throw new ArgumentException("commitInfo is written by CommitAsync; pass the operation instead", nameof(actions));
                default:
                    throw new ArgumentException($"cannot commit a {a.GetType().Name}", nameof(actions));
            }
        }
        DeltaProtocolSupport.EnsureWritable(protocol, metadata, $"'{basis.TableRoot}'");
        var partitionColumns = metadata.PartitionColumns;
        foreach (var a in actions)
        {
            if (a is AddFile add)
            {
                CheckPath(add.Path);
                if (add.Size < 0) throw new ArgumentException($"add '{add.Path}': negative size", nameof(actions));
                if (add.DeletionVector is not null) throw new ArgumentException("this writer does not write deletion vectors", nameof(actions));
                if (!adds.Add(add.Key)) throw new ArgumentException($"file '{add.Path}' is added twice in one commit", nameof(actions));
                try
                {
                    add.GetStats();
                }
                catch (DeltaLogCorruptException e)
                {
                    throw new ArgumentException($"add '{add.Path}': {e.Message}", nameof(actions), e);
                }
                if (add.PartitionValues.Count != partitionColumns.Count || partitionColumns.Any(c => !add.PartitionValues.ContainsKey(c)))
                    throw new ArgumentException(
                        $"add '{add.Path}': partition values [{string.Join(", ", add.PartitionValues.Keys)}] do not match the partition columns [{string.Join(", ", partitionColumns)}]",
                        nameof(actions));
            }
            else if (a is RemoveFile remove)
            {
                CheckPath(remove.Path);
                if (!removes.Add(remove.Key)) throw new ArgumentException($"file '{remove.Path}' is removed twice in one commit", nameof(actions));
                if (!basis.FilesByKey.ContainsKey(remove.Key))
                    throw new ArgumentException($"remove '{remove.Path}': the file is not in the table at version {basis.Version}", nameof(actions));
                if (remove.DataChange && DeltaProtocolSupport.IsAppendOnly(metadata))
                    throw new DeltaUnsupportedFeatureException(
                        $"table '{basis.TableRoot}' is append-only (delta.appendOnly=true): '{remove.Path}' cannot be removed with dataChange", ["appendOnly"]);
            }
        }
        foreach (var key in adds)
        {
            if (removes.Contains(key)) throw new ArgumentException("a commit may not add and remove the same file", nameof(actions));
        }
    }

    private static void CheckPath(string path)
    {
        if (string.IsNullOrEmpty(path)) throw new ArgumentException("file action with an empty path");
        if (DeltaLogPaths.IsAbsolute(DeltaLogPaths.DecodePath(path)))
            throw new ArgumentException($"file path '{path}' must be relative to the table root");
    }
}
