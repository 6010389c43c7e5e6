using System.Buffers.Text;
using Google.Protobuf;
using TimeFusion.Otlp.Resource.V1;
using TimeFusion.Tables;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>
/// Rows of <c>otel_logs_and_spans</c> being built from spans and log records: the column ordinals, the shared JSON
/// writer, and the current resource's JSON and flattened columns (computed once per resource, set on each row).
/// </summary>
internal sealed class LogsAndSpansRows
{
    private static readonly TableSchema Table = OtelLogsAndSpans.Schema;
    internal static readonly FlattenedColumns Attributes = new(Table, "attributes___");
    internal static readonly FlattenedColumns ResourceFlattenedColumns = new(Table, "resource___");

    public static readonly int Timestamp = Ord("timestamp"), ObservedTimestamp = Ord("observed_timestamp"), Id = Ord("id"),
        ParentId = Ord("parent_id"), Name = Ord("name"), Kind = Ord("kind"), StatusCode = Ord("status_code"),
        StatusMessage = Ord("status_message"), Level = Ord("level"), Severity = Ord("severity"),
        SeverityText = Ord("severity___severity_text"), SeverityNumberColumn = Ord("severity___severity_number"), Body = Ord("body"),
        Duration = Ord("duration"), StartTime = Ord("start_time"), EndTime = Ord("end_time"), Context = Ord("context"),
        TraceId = Ord("context___trace_id"), SpanId = Ord("context___span_id"), TraceState = Ord("context___trace_state"),
        TraceFlags = Ord("context___trace_flags"), IsRemote = Ord("context___is_remote"), Events = Ord("events"),
        Links = Ord("links"), AttributesJson = Ord("attributes"), ResourceJson = Ord("resource");

    private Resource? _resource;
    private byte[] _resourceJson = "{}"u8.ToArray();

    /// <summary>Rows for an export of about <paramref name="expectedRows"/> items.</summary>
    public LogsAndSpansRows(int expectedRows) => Rows = new ColumnarRows(Table, expectedRows);

    public ColumnarRows Rows { get; }

    public OtlpJson Json { get; } = new();

    /// <summary>Makes <paramref name="resource"/> the one later rows carry.</summary>
    public void UseResource(Resource? resource)
    {
        _resource = resource;
        _resourceJson = resource is null ? "{}"u8.ToArray() : Json.Object(resource.Attributes).ToArray();
    }

    /// <summary>Sets the resource columns of the current row.</summary>
    public void WriteResource()
    {
        Rows.Utf8(ResourceJson, _resourceJson);
        if (_resource is not null) ResourceFlattenedColumns.Fill(Rows, _resource.Attributes);
    }

    /// <summary>Sets an id column to the lower-case hex of <paramref name="id"/>.</summary>
    public void Hex(int column, ByteString id) => Hex(column, id.Span);

    /// <summary>Sets an id column to the lower-case hex of <paramref name="id"/> (at most 32 bytes).</summary>
    public void Hex(int column, ReadOnlySpan<byte> id)
    {
        Span<byte> hex = stackalloc byte[64];
        Rows.Utf8(column, HexId.Write(id, hex));
    }

    /// <summary>Sets <c>context___trace_flags</c> to the W3C trace flags (the low byte of OTLP's flags) as two hex digits.</summary>
    public void Flags(uint flags)
    {
        Span<byte> one = [(byte)(flags & 0xFF)];
        Span<byte> hex = stackalloc byte[2];
        Rows.Utf8(TraceFlags, HexId.Write(one, hex));
    }

    /// <summary>
    /// Sets <c>id</c> to a new time-ordered UUID (log records carry no id of their own): one random version-7 UUID per
    /// export, and the export's n-th id is it with n added to its 62 random low bits (RFC 9562's counter method), so that
    /// ids stay unique and ordered without drawing 8,192 random numbers per export.
    /// </summary>
    public void NewId()
    {
        if (_idBase is null)
        {
            _idBase = new byte[16];
            Guid.CreateVersion7().TryWriteBytes(_idBase, bigEndian: true, out _);
        }
        Span<byte> bytes = stackalloc byte[16];
        _idBase.CopyTo(bytes);
        var low = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        const ulong random = (1UL << 62) - 1;
        low = (low & ~random) | ((low + _idCount++) & random); // the variant bits (10) stay
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], low);
        Span<byte> text = stackalloc byte[36];
        new Guid(bytes, bigEndian: true).TryFormat(text, out var written);
        Rows.Utf8(Id, text[..written]);
    }

    private byte[]? _idBase;
    private ulong _idCount;

    private static int Ord(string name) => ColumnarRows.Ordinal(Table, name);
}
