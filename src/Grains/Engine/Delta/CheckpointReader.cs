using System.Runtime.InteropServices;
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using ParquetSharp.Arrow;
using TimeFusion.Delta.Actions;
using static TimeFusion.Delta.CheckpointArrow;

namespace TimeFusion.Delta;

/// <summary>
/// Reads a classic (v1 spec) Parquet checkpoint — ours, Spark's or delta-rs's — with ParquetSharp's Arrow reader,
/// projecting only the leaf columns we use. Writers differ (column order, nullable feature columns,
/// <c>stats_parsed</c>/<c>partitionValues_parsed</c>, int32 vs int64), so fields are found by name and any missing
/// column is null. When a writer kept statistics only in <c>stats_parsed</c>, they are turned back into stats JSON.
/// A checkpoint holding v2-spec rows (<c>sidecar</c>, <c>checkpointMetadata</c>) is refused.
/// </summary>
internal static class CheckpointReader
{
    private static readonly string[] TopLevel = ["protocol", "metaData", "txn", "add", "remove", "sidecar", "checkpointMetadata"];

    /// <summary>Parses one checkpoint file (or one part of a multi-part checkpoint).</summary>
    /// <exception cref="DeltaLogCorruptException">Not a readable checkpoint.</exception>
    /// <exception cref="DeltaUnsupportedFeatureException">A v2-spec checkpoint (sidecars).</exception>
    public static async Task<List<DeltaAction>> ReadAsync(byte[] content, string source, CancellationToken ct)
    {
        try
        {
            return await ReadCoreAsync(content, source, ct);
        }
        catch (DeltaException)
        {
            throw;
        }
        catch (Exception e) when (e is ParquetSharp.ParquetException or IOException or InvalidOperationException or ArgumentException
                                      or InvalidCastException or NotSupportedException or OverflowException)
        {
            throw new DeltaLogCorruptException($"checkpoint {source} cannot be read: {e.Message}", e);
        }
    }

    private static async Task<List<DeltaAction>> ReadCoreAsync(byte[] content, string source, CancellationToken ct)
    {
        // The bytes go to native memory and are read through a native buffer reader: with a managed Stream, ParquetSharp
        // calls back into a stream wrapper that the GC could collect while native code still held it (a test host died
        // with "a callback was made on a garbage collected delegate … ManagedRandomAccessFile+CloseDelegate").
        var native = Marshal.AllocHGlobal(Math.Max(1, content.Length));
        try
        {
            Marshal.Copy(content, 0, native, content.Length);
            return await ReadNativeAsync(native, content.Length, source, ct);
        }
        finally
        {
            Marshal.FreeHGlobal(native); // after every reader over it was disposed, inside ReadNativeAsync
        }
    }

    private static async Task<List<DeltaAction>> ReadNativeAsync(IntPtr data, int length, string source, CancellationToken ct)
    {
        using var buffer = new ParquetSharp.IO.Buffer(data, length);
        using var file = new ParquetSharp.IO.BufferReader(buffer);
        using var arrowProps = ArrowReaderProperties.GetDefault();
        // INT96 timestamps (Spark) as microseconds: nanoseconds overflow for years past 2262 (9999-12-31 exists in real tables).
        arrowProps.CoerceInt96TimestampUnit = TimeUnit.Microsecond;
        using var reader = new FileReader(file, properties: null, arrowProperties: arrowProps);

        var leaves = new List<int>();
        foreach (var field in reader.SchemaManifest.SchemaFields)
        {
            if (System.Array.IndexOf(TopLevel, field.Field.Name) >= 0) CollectLeaves(field, leaves);
        }
        var result = new List<DeltaAction>();
        if (leaves.Count == 0) return result;

        using var batches = reader.GetRecordBatchReader(rowGroups: null, columns: leaves.ToArray());
        while (await batches.ReadNextRecordBatchAsync(ct) is { } batch)
        {
            using (batch) ReadBatch(batch, source, result);
        }
        return result;
    }

    private static void CollectLeaves(SchemaField field, List<int> leaves)
    {
        if (field.ColumnIndex >= 0) leaves.Add(field.ColumnIndex);
        foreach (var child in field.Children) CollectLeaves(child, leaves);
    }

    private static void ReadBatch(RecordBatch batch, string source, List<DeltaAction> result)
    {
        StructArray? Column(string name)
        {
            var index = batch.Schema.GetFieldIndex(name);
            if (index < 0) return null;
            var column = batch.Column(index);
            if (column is not StructArray s || s.Offset != 0)
                throw new DeltaLogCorruptException($"checkpoint {source}: column '{name}' is not a struct");
            return s;
        }

        var protocol = Column("protocol");
        var metadata = Column("metaData");
        var txn = Column("txn");
        var add = Column("add");
        var remove = Column("remove");
        var sidecar = Column("sidecar");
        var checkpointMetadata = Column("checkpointMetadata");

        for (var i = 0; i < batch.Length; i++)
        {
            if ((sidecar is not null && !sidecar.IsNull(i)) || (checkpointMetadata is not null && !checkpointMetadata.IsNull(i)))
                throw new DeltaUnsupportedFeatureException(
                    $"checkpoint {source} follows the v2 checkpoint spec (sidecar/checkpointMetadata rows), feature 'v2Checkpoint', which this reader does not support",
                    ["v2Checkpoint"]);
            if (add is not null && !add.IsNull(i)) result.Add(ReadAdd(add, i));
            else if (remove is not null && !remove.IsNull(i)) result.Add(ReadRemove(remove, i));
            else if (txn is not null && !txn.IsNull(i)) result.Add(ReadTxn(txn, i));
            else if (metadata is not null && !metadata.IsNull(i)) result.Add(ReadMetadata(metadata, i));
            else if (protocol is not null && !protocol.IsNull(i)) result.Add(ReadProtocol(protocol, i));
        }
    }

    private static AddFile ReadAdd(StructArray a, int i)
    {
        var stats = GetString(Child(a, "stats"), i, "add.stats");
        if (stats is null && Child(a, "stats_parsed") is StructArray parsed && !parsed.IsNull(i))
            stats = StatsParsedToJson(parsed, i);
        return new AddFile
        {
            Path = GetString(Child(a, "path"), i, "add.path") ?? throw new DeltaLogCorruptException("checkpoint add action without a path"),
            PartitionValues = GetMap(Child(a, "partitionValues"), i, "add.partitionValues") ?? AddFile.EmptyPartitionValues,
            Size = GetLong(Child(a, "size"), i, "add.size") ?? throw new DeltaLogCorruptException("checkpoint add action without a size"),
            ModificationTime = GetLong(Child(a, "modificationTime"), i, "add.modificationTime") ?? 0,
            DataChange = GetBool(Child(a, "dataChange"), i, "add.dataChange") ?? false,
            Stats = stats,
            Tags = GetMap(Child(a, "tags"), i, "add.tags"),
            DeletionVector = ReadDeletionVector(a, i, "add"),
            BaseRowId = GetLong(Child(a, "baseRowId"), i, "add.baseRowId"),
            DefaultRowCommitVersion = GetLong(Child(a, "defaultRowCommitVersion"), i, "add.defaultRowCommitVersion"),
        };
    }

    private static RemoveFile ReadRemove(StructArray r, int i) => new()
    {
        Path = GetString(Child(r, "path"), i, "remove.path") ?? throw new DeltaLogCorruptException("checkpoint remove action without a path"),
        DeletionTimestamp = GetLong(Child(r, "deletionTimestamp"), i, "remove.deletionTimestamp"),
        DataChange = GetBool(Child(r, "dataChange"), i, "remove.dataChange") ?? false,
        ExtendedFileMetadata = GetBool(Child(r, "extendedFileMetadata"), i, "remove.extendedFileMetadata"),
        PartitionValues = GetMap(Child(r, "partitionValues"), i, "remove.partitionValues"),
        Size = GetLong(Child(r, "size"), i, "remove.size"),
        DeletionVector = ReadDeletionVector(r, i, "remove"),
    };

    private static DeletionVectorDescriptor? ReadDeletionVector(StructArray parent, int i, string action)
    {
        if (Child(parent, "deletionVector") is not StructArray dv || dv.IsNull(i)) return null;
        var column = action + ".deletionVector";
        var offset = GetLong(Child(dv, "offset"), i, column + ".offset");
        return new DeletionVectorDescriptor(
            GetString(Child(dv, "storageType"), i, column + ".storageType") ?? "",
            GetString(Child(dv, "pathOrInlineDv"), i, column + ".pathOrInlineDv") ?? "",
            offset is { } o ? checked((int)o) : null,
            checked((int)(GetLong(Child(dv, "sizeInBytes"), i, column + ".sizeInBytes") ?? 0)),
            GetLong(Child(dv, "cardinality"), i, column + ".cardinality") ?? 0);
    }

    private static TransactionAction ReadTxn(StructArray t, int i) => new(
        GetString(Child(t, "appId"), i, "txn.appId") ?? throw new DeltaLogCorruptException("checkpoint txn action without an appId"),
        GetLong(Child(t, "version"), i, "txn.version") ?? throw new DeltaLogCorruptException("checkpoint txn action without a version"),
        GetLong(Child(t, "lastUpdated"), i, "txn.lastUpdated"));

    private static ProtocolAction ReadProtocol(StructArray p, int i) => new(
        checked((int)(GetLong(Child(p, "minReaderVersion"), i, "protocol.minReaderVersion") ?? throw new DeltaLogCorruptException("checkpoint protocol without minReaderVersion"))),
        checked((int)(GetLong(Child(p, "minWriterVersion"), i, "protocol.minWriterVersion") ?? throw new DeltaLogCorruptException("checkpoint protocol without minWriterVersion"))),
        GetStringList(Child(p, "readerFeatures"), i, "protocol.readerFeatures"),
        GetStringList(Child(p, "writerFeatures"), i, "protocol.writerFeatures"));

    private static MetadataAction ReadMetadata(StructArray m, int i)
    {
        var format = DeltaFormat.Parquet;
        if (Child(m, "format") is StructArray f && !f.IsNull(i))
        {
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in GetMap(Child(f, "options"), i, "metaData.format.options") ?? [])
            {
                if (v is not null) options[k] = v;
            }
            format = new DeltaFormat(GetString(Child(f, "provider"), i, "metaData.format.provider") ?? "parquet", options);
        }
        var configuration = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in GetMap(Child(m, "configuration"), i, "metaData.configuration") ?? [])
        {
            if (v is not null) configuration[k] = v;
        }
        return new MetadataAction
        {
            Id = GetString(Child(m, "id"), i, "metaData.id") ?? throw new DeltaLogCorruptException("checkpoint metaData without an id"),
            Name = GetString(Child(m, "name"), i, "metaData.name"),
            Description = GetString(Child(m, "description"), i, "metaData.description"),
            Format = format,
            SchemaString = GetString(Child(m, "schemaString"), i, "metaData.schemaString") ?? throw new DeltaLogCorruptException("checkpoint metaData without a schemaString"),
            PartitionColumns = GetStringList(Child(m, "partitionColumns"), i, "metaData.partitionColumns") ?? [],
            Configuration = configuration,
            CreatedTime = GetLong(Child(m, "createdTime"), i, "metaData.createdTime"),
        };
    }

    private static long FloorDiv(long value, long divisor)
    {
        var (q, r) = Math.DivRem(value, divisor);
        return r < 0 ? q - 1 : q;
    }

    /// <summary>Turns a <c>stats_parsed</c> struct back into the stats JSON the log would have held.</summary>
    private static string StatsParsedToJson(StructArray parsed, int i)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, DeltaJson.WriterOptions))
        {
            w.WriteStartObject();
            if (GetLong(Child(parsed, "numRecords"), i, "add.stats_parsed.numRecords") is { } n) w.WriteNumber("numRecords", n);
            if (GetBool(Child(parsed, "tightBounds"), i, "add.stats_parsed.tightBounds") is { } tb) w.WriteBoolean("tightBounds", tb);
            foreach (var name in (string[])["minValues", "maxValues", "nullCount"])
            {
                if (Child(parsed, name) is StructArray values && !values.IsNull(i))
                {
                    w.WritePropertyName(name);
                    WriteStruct(w, values, i);
                }
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteStruct(Utf8JsonWriter w, StructArray s, int i)
    {
        var type = (StructType)s.Data.DataType;
        w.WriteStartObject();
        for (var f = 0; f < type.Fields.Count; f++)
        {
            var child = s.Fields[f];
            if (child.IsNull(i)) continue; // absent and null carry the same (no) information
            var name = type.Fields[f].Name;
            switch (child)
            {
                case StructArray nested:
                    w.WritePropertyName(name);
                    WriteStruct(w, nested, i);
                    break;
                case BooleanArray b: w.WriteBoolean(name, b.GetValue(i)!.Value); break;
                case Int8Array a: w.WriteNumber(name, a.GetValue(i)!.Value); break;
                case Int16Array a: w.WriteNumber(name, a.GetValue(i)!.Value); break;
                case Int32Array a: w.WriteNumber(name, a.GetValue(i)!.Value); break;
                case Int64Array a: w.WriteNumber(name, a.GetValue(i)!.Value); break;
                case FloatArray a when float.IsFinite(a.GetValue(i)!.Value): w.WriteNumber(name, a.GetValue(i)!.Value); break;
                case DoubleArray a when double.IsFinite(a.GetValue(i)!.Value): w.WriteNumber(name, a.GetValue(i)!.Value); break;
                case Decimal128Array a:
                    w.WritePropertyName(name);
                    w.WriteRawValue(a.GetString(i)!, skipInputValidation: false);
                    break;
                case StringArray or LargeStringArray or StringViewArray: w.WriteString(name, GetString(child, i, name)); break;
                case Date32Array d: w.WriteString(name, d.GetDateOnly(i)!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)); break;
                case TimestampArray t:
                    var unit = ((TimestampType)t.Data.DataType).Unit;
                    var raw = t.GetValue(i)!.Value;
                    var micros = unit switch
                    {
                        TimeUnit.Second => raw * 1_000_000,
                        TimeUnit.Millisecond => raw * 1_000,
                        TimeUnit.Microsecond => raw,
                        _ => FloorDiv(raw, 1000),
                    };
                    w.WriteString(name, DeltaTimestamps.FormatMicros(micros));
                    break;
                // Binary, lists, maps and other types have no min/max in the protocol: leave them out (unknown).
            }
        }
        w.WriteEndObject();
    }
}
