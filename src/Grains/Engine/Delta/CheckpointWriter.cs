using Apache.Arrow;
using Apache.Arrow.Memory;
using Apache.Arrow.Types;
using ParquetSharp;
using ParquetSharp.Arrow;
using TimeFusion.Delta.Actions;

namespace TimeFusion.Delta;

/// <summary>
/// Writes a classic v1-spec Parquet checkpoint of a snapshot with ParquetSharp's Arrow writer: one row per action
/// (protocol, metaData, txn…, add…, remove tombstones…), each action a nullable struct column whose fields follow
/// the protocol's checkpoint schema (maps as map&lt;string,string&gt;, partitionColumns as list&lt;string&gt;).
/// Expired tombstones are left out.
/// </summary>
internal static class CheckpointWriter
{
    private static readonly MapType StringMap = new(new Field("key", StringType.Default, false), new Field("value", StringType.Default, true), keySorted: false);
    private static readonly ListType StringList = new(new Field("element", StringType.Default, true));

    private static readonly StructType ProtocolType = new([
        new Field("minReaderVersion", Int32Type.Default, true),
        new Field("minWriterVersion", Int32Type.Default, true),
        new Field("readerFeatures", StringList, true),
        new Field("writerFeatures", StringList, true),
    ]);

    private static readonly StructType FormatType = new([
        new Field("provider", StringType.Default, true),
        new Field("options", StringMap, true),
    ]);

    private static readonly StructType MetadataType = new([
        new Field("id", StringType.Default, true),
        new Field("name", StringType.Default, true),
        new Field("description", StringType.Default, true),
        new Field("format", FormatType, true),
        new Field("schemaString", StringType.Default, true),
        new Field("partitionColumns", StringList, true),
        new Field("configuration", StringMap, true),
        new Field("createdTime", Int64Type.Default, true),
    ]);

    private static readonly StructType TxnType = new([
        new Field("appId", StringType.Default, true),
        new Field("version", Int64Type.Default, true),
        new Field("lastUpdated", Int64Type.Default, true),
    ]);

    private static readonly StructType AddType = new([
        new Field("path", StringType.Default, true),
        new Field("partitionValues", StringMap, true),
        new Field("size", Int64Type.Default, true),
        new Field("modificationTime", Int64Type.Default, true),
        new Field("dataChange", BooleanType.Default, true),
        new Field("stats", StringType.Default, true),
        new Field("tags", StringMap, true),
        new Field("baseRowId", Int64Type.Default, true),
        new Field("defaultRowCommitVersion", Int64Type.Default, true),
    ]);

    private static readonly StructType RemoveType = new([
        new Field("path", StringType.Default, true),
        new Field("deletionTimestamp", Int64Type.Default, true),
        new Field("dataChange", BooleanType.Default, true),
        new Field("extendedFileMetadata", BooleanType.Default, true),
        new Field("partitionValues", StringMap, true),
        new Field("size", Int64Type.Default, true),
    ]);

    private static readonly Schema CheckpointSchema = new([
        new Field("protocol", ProtocolType, true),
        new Field("metaData", MetadataType, true),
        new Field("txn", TxnType, true),
        new Field("add", AddType, true),
        new Field("remove", RemoveType, true),
    ], metadata: null);

    /// <summary>The encoded checkpoint and what it holds.</summary>
    public sealed record Result(byte[] Content, long ActionCount, long AddCount);

    /// <summary>Encodes the checkpoint of <paramref name="snapshot"/>; tombstones deleted before <paramref name="tombstoneCutoffMillis"/> are dropped.</summary>
    public static Result Write(DeltaSnapshot snapshot, long tombstoneCutoffMillis)
    {
        if (snapshot.Files.Any(f => f.DeletionVector is not null) || snapshot.Tombstones.Any(t => t.DeletionVector is not null))
            throw new DeltaUnsupportedFeatureException("cannot checkpoint a table with deletion vectors", ["deletionVectors"]);

        var txns = snapshot.Transactions.Values.OrderBy(t => t.AppId, StringComparer.Ordinal).ToList();
        var adds = snapshot.Files;
        // A tombstone without a deletion time counts as deleted at 0: expired, as Spark treats it.
        var removes = snapshot.Tombstones.Where(t => (t.DeletionTimestamp ?? 0) >= tombstoneCutoffMillis).ToList();
        var rows = 2 + txns.Count + adds.Count + removes.Count;

        // Row layout: 0 = protocol, 1 = metaData, then txns, adds, removes.
        var protocol = BuildProtocol(snapshot.Protocol, rows);
        var metadata = BuildMetadata(snapshot.Metadata, rows);
        var txn = BuildTxn(txns, 2, rows);
        var add = BuildAdd(adds, 2 + txns.Count, rows);
        var remove = BuildRemove(removes, 2 + txns.Count + adds.Count, rows);

        using var batch = new RecordBatch(CheckpointSchema, [protocol, metadata, txn, add, remove], rows);
        // A native output buffer, not a managed Stream: no callback from native code into a wrapper the GC could collect.
        using var output = new ParquetSharp.IO.BufferOutputStream();
        using (var props = new WriterPropertiesBuilder().Compression(Compression.Snappy).Build())
        using (var writer = new FileWriter(output, CheckpointSchema, props, arrowProperties: null))
        {
            writer.WriteRecordBatch(batch);
            writer.Close();
        }
        using var written = output.Finish();
        return new Result(written.ToArray(), rows, adds.Count);
    }

    private static StructArray BuildProtocol(ProtocolAction p, int rows)
    {
        var s = new StructColumn(rows, 0, 1);
        var reader = new Int32Array.Builder();
        var writer = new Int32Array.Builder();
        var readerFeatures = new StringListColumn();
        var writerFeatures = new StringListColumn();
        for (var r = 0; r < rows; r++)
        {
            if (s.IsSet(r))
            {
                reader.Append(p.MinReaderVersion);
                writer.Append(p.MinWriterVersion);
                readerFeatures.Append(p.ReaderFeatures);
                writerFeatures.Append(p.WriterFeatures);
            }
            else
            {
                reader.AppendNull();
                writer.AppendNull();
                readerFeatures.Append(null);
                writerFeatures.Append(null);
            }
        }
        return s.Build(ProtocolType, [reader.Build(), writer.Build(), readerFeatures.Build(StringList), writerFeatures.Build(StringList)]);
    }

    private static StructArray BuildMetadata(MetadataAction m, int rows)
    {
        var s = new StructColumn(rows, 1, 1);
        var id = new StringArray.Builder();
        var name = new StringArray.Builder();
        var description = new StringArray.Builder();
        var provider = new StringArray.Builder();
        var options = new StringMapColumn();
        var schema = new StringArray.Builder();
        var partitionColumns = new StringListColumn();
        var configuration = new StringMapColumn();
        var created = new Int64Array.Builder();
        for (var r = 0; r < rows; r++)
        {
            var set = s.IsSet(r);
            AppendString(id, set ? m.Id : null);
            AppendString(name, set ? m.Name : null);
            AppendString(description, set ? m.Description : null);
            AppendString(provider, set ? m.Format.Provider : null);
            options.Append(set ? m.Format.Options.Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value)) : null);
            AppendString(schema, set ? m.SchemaString : null);
            partitionColumns.Append(set ? m.PartitionColumns : null);
            configuration.Append(set ? m.Configuration.Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value)) : null);
            AppendLong(created, set ? m.CreatedTime : null);
        }
        var format = s.Build(FormatType, [provider.Build(), options.Build(StringMap)]);
        return s.Build(MetadataType, [id.Build(), name.Build(), description.Build(), format, schema.Build(),
            partitionColumns.Build(StringList), configuration.Build(StringMap), created.Build()]);
    }

    private static StructArray BuildTxn(IReadOnlyList<TransactionAction> txns, int first, int rows)
    {
        var s = new StructColumn(rows, first, txns.Count);
        var appId = new StringArray.Builder();
        var version = new Int64Array.Builder();
        var lastUpdated = new Int64Array.Builder();
        for (var r = 0; r < rows; r++)
        {
            var t = s.IsSet(r) ? txns[r - first] : null;
            AppendString(appId, t?.AppId);
            AppendLong(version, t?.Version);
            AppendLong(lastUpdated, t?.LastUpdated);
        }
        return s.Build(TxnType, [appId.Build(), version.Build(), lastUpdated.Build()]);
    }

    private static StructArray BuildAdd(IReadOnlyList<AddFile> adds, int first, int rows)
    {
        var s = new StructColumn(rows, first, adds.Count);
        var path = new StringArray.Builder();
        var partitionValues = new StringMapColumn();
        var size = new Int64Array.Builder();
        var modificationTime = new Int64Array.Builder();
        var dataChange = new BooleanArray.Builder();
        var stats = new StringArray.Builder();
        var tags = new StringMapColumn();
        var baseRowId = new Int64Array.Builder();
        var defaultRowCommitVersion = new Int64Array.Builder();
        for (var r = 0; r < rows; r++)
        {
            var a = s.IsSet(r) ? adds[r - first] : null;
            AppendString(path, a?.Path);
            partitionValues.Append(a?.PartitionValues);
            AppendLong(size, a?.Size);
            AppendLong(modificationTime, a?.ModificationTime);
            AppendBool(dataChange, a?.DataChange);
            AppendString(stats, a?.Stats);
            tags.Append(a?.Tags);
            AppendLong(baseRowId, a?.BaseRowId);
            AppendLong(defaultRowCommitVersion, a?.DefaultRowCommitVersion);
        }
        return s.Build(AddType, [path.Build(), partitionValues.Build(StringMap), size.Build(), modificationTime.Build(),
            dataChange.Build(), stats.Build(), tags.Build(StringMap), baseRowId.Build(), defaultRowCommitVersion.Build()]);
    }

    private static StructArray BuildRemove(IReadOnlyList<RemoveFile> removes, int first, int rows)
    {
        var s = new StructColumn(rows, first, removes.Count);
        var path = new StringArray.Builder();
        var deletionTimestamp = new Int64Array.Builder();
        var dataChange = new BooleanArray.Builder();
        var extended = new BooleanArray.Builder();
        var partitionValues = new StringMapColumn();
        var size = new Int64Array.Builder();
        for (var r = 0; r < rows; r++)
        {
            var t = s.IsSet(r) ? removes[r - first] : null;
            AppendString(path, t?.Path);
            AppendLong(deletionTimestamp, t?.DeletionTimestamp);
            AppendBool(dataChange, t?.DataChange);
            AppendBool(extended, t?.ExtendedFileMetadata);
            partitionValues.Append(t?.PartitionValues);
            AppendLong(size, t?.Size);
        }
        return s.Build(RemoveType, [path.Build(), deletionTimestamp.Build(), dataChange.Build(), extended.Build(),
            partitionValues.Build(StringMap), size.Build()]);
    }

    private static void AppendString(StringArray.Builder b, string? v)
    {
        if (v is null) b.AppendNull();
        else b.Append(v);
    }

    private static void AppendLong(Int64Array.Builder b, long? v)
    {
        if (v is { } x) b.Append(x);
        else b.AppendNull();
    }

    private static void AppendBool(BooleanArray.Builder b, bool? v)
    {
        if (v is { } x) b.Append(x);
        else b.AppendNull();
    }

    /// <summary>The validity of a struct column that is set on rows [first, first + count).</summary>
    private sealed class StructColumn(int rows, int first, int count)
    {
        public bool IsSet(int row) => row >= first && row < first + count;

        public StructArray Build(StructType type, IArrowArray[] children)
        {
            var validity = new ArrowBuffer.BitmapBuilder(rows);
            for (var r = 0; r < rows; r++) validity.Append(IsSet(r));
            return new StructArray(type, rows, children, validity.Build(), rows - count, 0);
        }
    }

    /// <summary>Builds a map&lt;string,string&gt; column row by row (a null map for rows without one).</summary>
    private sealed class StringMapColumn
    {
        private readonly List<int> _offsets = [0];
        private readonly ArrowBuffer.BitmapBuilder _validity = new(64);
        private readonly StringArray.Builder _keys = new();
        private readonly StringArray.Builder _values = new();
        private int _entries;
        private int _nulls;

        public void Append(IEnumerable<KeyValuePair<string, string?>>? map)
        {
            if (map is null)
            {
                _validity.Append(false);
                _nulls++;
            }
            else
            {
                _validity.Append(true);
                foreach (var (k, v) in map)
                {
                    _keys.Append(k);
                    AppendString(_values, v);
                    _entries++;
                }
            }
            _offsets.Add(_entries);
        }

        public MapArray Build(MapType type)
        {
            var length = _offsets.Count - 1;
            var offsets = new ArrowBuffer.Builder<int>(_offsets.Count).AppendRange(_offsets).Build();
            var entryValidity = new ArrowBuffer.BitmapBuilder(_entries).AppendRange(true, _entries).Build();
            var entries = new StructArray(type.KeyValueType, _entries, [_keys.Build(), _values.Build()], entryValidity, 0, 0);
            return new MapArray(type, length, offsets, entries, _validity.Build(), _nulls, 0);
        }
    }

    /// <summary>Builds a list&lt;string&gt; column row by row.</summary>
    private sealed class StringListColumn
    {
        private readonly List<int> _offsets = [0];
        private readonly ArrowBuffer.BitmapBuilder _validity = new(64);
        private readonly StringArray.Builder _values = new();
        private int _count;
        private int _nulls;

        public void Append(IEnumerable<string>? list)
        {
            if (list is null)
            {
                _validity.Append(false);
                _nulls++;
            }
            else
            {
                _validity.Append(true);
                foreach (var v in list)
                {
                    _values.Append(v);
                    _count++;
                }
            }
            _offsets.Add(_count);
        }

        public ListArray Build(ListType type)
        {
            var offsets = new ArrowBuffer.Builder<int>(_offsets.Count).AppendRange(_offsets).Build();
            return new ListArray(type, _offsets.Count - 1, offsets, _values.Build(), _validity.Build(), _nulls, 0);
        }
    }
}
