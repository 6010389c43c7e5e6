using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using TimeFusion.Delta.Actions;

namespace TimeFusion.Delta;

/// <summary>
/// Reads and writes Delta log actions as JSON (one action per line, <c>{"add":{…}}</c>), with
/// <see cref="Utf8JsonWriter"/> and <see cref="JsonDocument"/>: explicit field names (camelCase per the protocol),
/// no reflection. Unknown actions and fields are ignored, as the protocol requires.
/// </summary>
public static class DeltaJson
{
    /// <summary>Writer options: compact, and only the escaping JSON requires (non-ASCII stays readable).</summary>
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private static readonly JsonDocumentOptions ReaderOptions = new() { MaxDepth = 64 };

    /// <summary>Serializes actions as newline-delimited JSON (each line ends with '\n').</summary>
    public static byte[] SerializeCommit(IEnumerable<DeltaAction> actions)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using var w = new Utf8JsonWriter(buffer, WriterOptions);
        foreach (var a in actions)
        {
            WriteAction(w, a);
            w.Flush();
            w.Reset();
            buffer.Write("\n"u8);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Serializes one action as a single JSON line (no newline).</summary>
    public static string Serialize(DeltaAction action)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions)) WriteAction(w, action);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses a commit file: one action per non-empty line.</summary>
    /// <param name="content">The file's bytes (UTF-8).</param>
    /// <param name="source">The file, for error messages.</param>
    /// <exception cref="DeltaLogCorruptException">A line is not a valid action.</exception>
    public static List<DeltaAction> ParseCommit(ReadOnlySpan<byte> content, string source)
    {
        if (content.StartsWith("\xEF\xBB\xBF"u8)) content = content[3..];
        var result = new List<DeltaAction>();
        var lineNo = 0;
        while (!content.IsEmpty)
        {
            lineNo++;
            var nl = content.IndexOf((byte)'\n');
            var line = nl < 0 ? content : content[..nl];
            content = nl < 0 ? default : content[(nl + 1)..];
            line = line.TrimEnd((byte)'\r').Trim((byte)' ');
            if (line.IsEmpty) continue;
            result.Add(ParseLine(line, source, lineNo));
        }
        return result;
    }

    /// <summary>Parses one JSON action line.</summary>
    /// <exception cref="DeltaLogCorruptException">Not a valid action.</exception>
    public static DeltaAction ParseLine(ReadOnlySpan<byte> line, string source, int lineNo)
    {
        try
        {
            using var doc = JsonDocument.Parse(line.ToArray(), ReaderOptions);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Corrupt(source, lineNo, "not a JSON object");
            DeltaAction? action = null;
            foreach (var p in root.EnumerateObject())
            {
                if (action is not null) throw Corrupt(source, lineNo, "more than one action on one line");
                var ctx = new Ctx(source, lineNo, p.Name);
                if (p.Value.ValueKind != JsonValueKind.Object)
                {
                    if (p.Value.ValueKind == JsonValueKind.Null) continue; // {"add":null}: nothing
                    throw Corrupt(source, lineNo, $"action '{p.Name}' is not an object");
                }
                action = p.Name switch
                {
                    "add" => ReadAdd(p.Value, ctx),
                    "remove" => ReadRemove(p.Value, ctx),
                    "metaData" => ReadMetadata(p.Value, ctx),
                    "protocol" => ReadProtocol(p.Value, ctx),
                    "txn" => ReadTxn(p.Value, ctx),
                    "commitInfo" => ReadCommitInfo(p.Value),
                    _ => new UnknownAction(p.Name),
                };
            }
            return action ?? throw Corrupt(source, lineNo, "no action on the line");
        }
        catch (JsonException e)
        {
            throw new DeltaLogCorruptException($"{source} line {lineNo}: invalid JSON ({e.Message})", e);
        }
    }

    // ---- reading -------------------------------------------------------------------------------------------

    private readonly record struct Ctx(string Source, int Line, string Action);

    private static DeltaLogCorruptException Corrupt(string source, int line, string what) =>
        new($"{source} line {line}: {what}");

    private static DeltaLogCorruptException Corrupt(Ctx c, string what) => Corrupt(c.Source, c.Line, $"'{c.Action}' action: {what}");

    private static AddFile ReadAdd(JsonElement e, Ctx c) => new()
    {
        Path = RequiredString(e, "path", c),
        PartitionValues = OptionalNullableMap(e, "partitionValues", c) ?? AddFile.EmptyPartitionValues,
        Size = RequiredLong(e, "size", c),
        ModificationTime = OptionalLong(e, "modificationTime", c) ?? 0,
        DataChange = OptionalBool(e, "dataChange", c) ?? true,
        Stats = OptionalString(e, "stats", c),
        Tags = OptionalNullableMap(e, "tags", c),
        DeletionVector = ReadDeletionVector(e, c),
        BaseRowId = OptionalLong(e, "baseRowId", c),
        DefaultRowCommitVersion = OptionalLong(e, "defaultRowCommitVersion", c),
    };

    private static RemoveFile ReadRemove(JsonElement e, Ctx c) => new()
    {
        Path = RequiredString(e, "path", c),
        DeletionTimestamp = OptionalLong(e, "deletionTimestamp", c),
        DataChange = OptionalBool(e, "dataChange", c) ?? true,
        ExtendedFileMetadata = OptionalBool(e, "extendedFileMetadata", c),
        PartitionValues = OptionalNullableMap(e, "partitionValues", c),
        Size = OptionalLong(e, "size", c),
        Stats = OptionalString(e, "stats", c),
        Tags = OptionalNullableMap(e, "tags", c),
        DeletionVector = ReadDeletionVector(e, c),
    };

    private static MetadataAction ReadMetadata(JsonElement e, Ctx c)
    {
        var format = DeltaFormat.Parquet;
        if (e.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.Object)
        {
            var fc = c with { Action = "metaData.format" };
            format = new DeltaFormat(OptionalString(f, "provider", fc) ?? "parquet", OptionalMap(f, "options", fc) ?? new Dictionary<string, string>());
        }
        return new MetadataAction
        {
            Id = RequiredString(e, "id", c),
            Name = OptionalString(e, "name", c),
            Description = OptionalString(e, "description", c),
            Format = format,
            SchemaString = RequiredString(e, "schemaString", c),
            PartitionColumns = OptionalStringList(e, "partitionColumns", c) ?? [],
            Configuration = OptionalMap(e, "configuration", c) ?? new Dictionary<string, string>(),
            CreatedTime = OptionalLong(e, "createdTime", c),
        };
    }

    private static ProtocolAction ReadProtocol(JsonElement e, Ctx c) => new(
        RequiredInt(e, "minReaderVersion", c),
        RequiredInt(e, "minWriterVersion", c),
        OptionalStringList(e, "readerFeatures", c),
        OptionalStringList(e, "writerFeatures", c));

    private static TransactionAction ReadTxn(JsonElement e, Ctx c) =>
        new(RequiredString(e, "appId", c), RequiredLong(e, "version", c), OptionalLong(e, "lastUpdated", c));

    private static CommitInfoAction ReadCommitInfo(JsonElement e)
    {
        // commitInfo is free-form provenance: read what we understand, never fail on it.
        Dictionary<string, string>? parameters = null;
        if (e.TryGetProperty("operationParameters", out var op) && op.ValueKind == JsonValueKind.Object)
        {
            parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in op.EnumerateObject())
                parameters[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        }
        return new CommitInfoAction
        {
            Timestamp = e.TryGetProperty("timestamp", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetInt64(out var ts) ? ts : null,
            Operation = e.TryGetProperty("operation", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null,
            OperationParameters = parameters,
            ReadVersion = e.TryGetProperty("readVersion", out var rv) && rv.ValueKind == JsonValueKind.Number && rv.TryGetInt64(out var r) ? r : null,
            IsBlindAppend = e.TryGetProperty("isBlindAppend", out var ba) && ba.ValueKind is JsonValueKind.True or JsonValueKind.False ? ba.GetBoolean() : null,
            EngineInfo = e.TryGetProperty("engineInfo", out var ei) && ei.ValueKind == JsonValueKind.String ? ei.GetString() : null,
        };
    }

    private static DeletionVectorDescriptor? ReadDeletionVector(JsonElement e, Ctx c)
    {
        if (!e.TryGetProperty("deletionVector", out var dv) || dv.ValueKind == JsonValueKind.Null) return null;
        if (dv.ValueKind != JsonValueKind.Object) throw Corrupt(c, "deletionVector is not an object");
        var dc = c with { Action = c.Action + ".deletionVector" };
        var offset = OptionalLong(dv, "offset", dc);
        return new DeletionVectorDescriptor(
            RequiredString(dv, "storageType", dc),
            RequiredString(dv, "pathOrInlineDv", dc),
            offset is { } o ? ToInt(o, "offset", dc) : null,
            ToInt(OptionalLong(dv, "sizeInBytes", dc) ?? 0, "sizeInBytes", dc),
            OptionalLong(dv, "cardinality", dc) ?? 0);
    }

    private static string RequiredString(JsonElement e, string name, Ctx c) =>
        OptionalString(e, name, c) ?? throw Corrupt(c, $"required field '{name}' is missing");

    private static string? OptionalString(JsonElement e, string name, Ctx c)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw Corrupt(c, $"field '{name}' is not a string");
        return v.GetString();
    }

    private static long RequiredLong(JsonElement e, string name, Ctx c) =>
        OptionalLong(e, name, c) ?? throw Corrupt(c, $"required field '{name}' is missing");

    private static int RequiredInt(JsonElement e, string name, Ctx c) => ToInt(RequiredLong(e, name, c), name, c);

    private static int ToInt(long value, string name, Ctx c) =>
        value is >= int.MinValue and <= int.MaxValue ? (int)value : throw Corrupt(c, $"field '{name}' is out of range ({value})");

    private static long? OptionalLong(JsonElement e, string name, Ctx c)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n)) throw Corrupt(c, $"field '{name}' is not an integer");
        return n;
    }

    private static bool? OptionalBool(JsonElement e, string name, Ctx c)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw Corrupt(c, $"field '{name}' is not a boolean");
        return v.GetBoolean();
    }

    private static List<string>? OptionalStringList(JsonElement e, string name, Ctx c)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Corrupt(c, $"field '{name}' is not an array");
        var list = new List<string>(v.GetArrayLength());
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw Corrupt(c, $"field '{name}' holds a non-string");
            list.Add(item.GetString()!);
        }
        return list;
    }

    private static Dictionary<string, string>? OptionalMap(JsonElement e, string name, Ctx c)
    {
        var m = OptionalNullableMap(e, name, c);
        if (m is null) return null;
        var result = new Dictionary<string, string>(m.Count, StringComparer.Ordinal);
        foreach (var (k, v) in m)
        {
            if (v is not null) result[k] = v; // a null property value carries nothing
        }
        return result;
    }

    private static Dictionary<string, string?>? OptionalNullableMap(JsonElement e, string name, Ctx c)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Object) throw Corrupt(c, $"field '{name}' is not an object");
        var map = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
        {
            map[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => p.Value.GetString(),
                _ => throw Corrupt(c, $"field '{name}.{p.Name}' is not a string"),
            };
        }
        return map;
    }

    // ---- writing -------------------------------------------------------------------------------------------

    private static void WriteAction(Utf8JsonWriter w, DeltaAction action)
    {
        w.WriteStartObject();
        switch (action)
        {
            case AddFile a: WriteAdd(w, a); break;
            case RemoveFile r: WriteRemove(w, r); break;
            case MetadataAction m: WriteMetadata(w, m); break;
            case ProtocolAction p: WriteProtocol(w, p); break;
            case TransactionAction t: WriteTxn(w, t); break;
            case CommitInfoAction ci: WriteCommitInfo(w, ci); break;
            default: throw new ArgumentException($"cannot write action {action.GetType().Name}", nameof(action));
        }
        w.WriteEndObject();
    }

    private static void WriteAdd(Utf8JsonWriter w, AddFile a)
    {
        w.WriteStartObject("add");
        w.WriteString("path", a.Path);
        WriteNullableMap(w, "partitionValues", a.PartitionValues);
        w.WriteNumber("size", a.Size);
        w.WriteNumber("modificationTime", a.ModificationTime);
        w.WriteBoolean("dataChange", a.DataChange);
        if (a.Stats is not null) w.WriteString("stats", a.Stats);
        if (a.Tags is not null) WriteNullableMap(w, "tags", a.Tags);
        if (a.DeletionVector is not null) WriteDeletionVector(w, a.DeletionVector);
        if (a.BaseRowId is { } b) w.WriteNumber("baseRowId", b);
        if (a.DefaultRowCommitVersion is { } d) w.WriteNumber("defaultRowCommitVersion", d);
        w.WriteEndObject();
    }

    private static void WriteRemove(Utf8JsonWriter w, RemoveFile r)
    {
        w.WriteStartObject("remove");
        w.WriteString("path", r.Path);
        if (r.DeletionTimestamp is { } ts) w.WriteNumber("deletionTimestamp", ts);
        w.WriteBoolean("dataChange", r.DataChange);
        if (r.ExtendedFileMetadata is { } ext) w.WriteBoolean("extendedFileMetadata", ext);
        if (r.PartitionValues is not null) WriteNullableMap(w, "partitionValues", r.PartitionValues);
        if (r.Size is { } s) w.WriteNumber("size", s);
        if (r.Stats is not null) w.WriteString("stats", r.Stats);
        if (r.Tags is not null) WriteNullableMap(w, "tags", r.Tags);
        if (r.DeletionVector is not null) WriteDeletionVector(w, r.DeletionVector);
        w.WriteEndObject();
    }

    private static void WriteMetadata(Utf8JsonWriter w, MetadataAction m)
    {
        w.WriteStartObject("metaData");
        w.WriteString("id", m.Id);
        if (m.Name is not null) w.WriteString("name", m.Name);
        if (m.Description is not null) w.WriteString("description", m.Description);
        w.WriteStartObject("format");
        w.WriteString("provider", m.Format.Provider);
        WriteMap(w, "options", m.Format.Options);
        w.WriteEndObject();
        w.WriteString("schemaString", m.SchemaString);
        w.WriteStartArray("partitionColumns");
        foreach (var c in m.PartitionColumns) w.WriteStringValue(c);
        w.WriteEndArray();
        WriteMap(w, "configuration", m.Configuration);
        if (m.CreatedTime is { } ct) w.WriteNumber("createdTime", ct);
        w.WriteEndObject();
    }

    private static void WriteProtocol(Utf8JsonWriter w, ProtocolAction p)
    {
        w.WriteStartObject("protocol");
        w.WriteNumber("minReaderVersion", p.MinReaderVersion);
        w.WriteNumber("minWriterVersion", p.MinWriterVersion);
        if (p.ReaderFeatures is not null) WriteStringArray(w, "readerFeatures", p.ReaderFeatures);
        if (p.WriterFeatures is not null) WriteStringArray(w, "writerFeatures", p.WriterFeatures);
        w.WriteEndObject();
    }

    private static void WriteTxn(Utf8JsonWriter w, TransactionAction t)
    {
        w.WriteStartObject("txn");
        w.WriteString("appId", t.AppId);
        w.WriteNumber("version", t.Version);
        if (t.LastUpdated is { } lu) w.WriteNumber("lastUpdated", lu);
        w.WriteEndObject();
    }

    private static void WriteCommitInfo(Utf8JsonWriter w, CommitInfoAction ci)
    {
        w.WriteStartObject("commitInfo");
        if (ci.Timestamp is { } ts) w.WriteNumber("timestamp", ts);
        if (ci.Operation is not null) w.WriteString("operation", ci.Operation);
        if (ci.OperationParameters is not null) WriteMap(w, "operationParameters", ci.OperationParameters);
        if (ci.ReadVersion is { } rv) w.WriteNumber("readVersion", rv);
        if (ci.IsBlindAppend is { } ba) w.WriteBoolean("isBlindAppend", ba);
        if (ci.EngineInfo is not null) w.WriteString("engineInfo", ci.EngineInfo);
        w.WriteEndObject();
    }

    private static void WriteDeletionVector(Utf8JsonWriter w, DeletionVectorDescriptor dv)
    {
        w.WriteStartObject("deletionVector");
        w.WriteString("storageType", dv.StorageType);
        w.WriteString("pathOrInlineDv", dv.PathOrInlineDv);
        if (dv.Offset is { } o) w.WriteNumber("offset", o);
        w.WriteNumber("sizeInBytes", dv.SizeInBytes);
        w.WriteNumber("cardinality", dv.Cardinality);
        w.WriteEndObject();
    }

    private static void WriteMap(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, string> map)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in map) w.WriteString(k, v);
        w.WriteEndObject();
    }

    private static void WriteNullableMap(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, string?> map)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in map)
        {
            if (v is null) w.WriteNull(k);
            else w.WriteString(k, v);
        }
        w.WriteEndObject();
    }

    private static void WriteStringArray(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
