using TimeFusion.Otlp.Common.V1;
using TimeFusion.Tables;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping.Wire;

/// <summary>How one item (a span, a log record) of an export is read from the wire into the current row.</summary>
internal interface IWireItemMapper
{
    /// <summary>Reads the item the reader just entered (ending at <paramref name="end"/>) and ends or abandons its row.</summary>
    void Read(OtlpWireReader r, WireExport export, int end, ref int depth);
}

/// <summary>
/// One OTLP export of spans or log records being decoded from the wire into rows of <c>otel_logs_and_spans</c>: the walk
/// every such request shares (<c>resource_spans</c>/<c>resource_logs</c> → <c>resource</c> + <c>scope_*</c> → items, the
/// same field numbers for both signals), the current resource (its JSON and flattened columns worked out once and set on
/// each of its rows), the JSON writers an item uses, and the refusals.
/// </summary>
internal sealed class WireExport
{
    private bool _hasResource;

    private WireExport(LogsAndSpansRows target) => Target = target;

    /// <summary>The rows being built.</summary>
    public LogsAndSpansRows Target { get; }

    /// <summary>The current item's attributes as a JSON object.</summary>
    public OtlpJson AttributeJson { get; } = new();

    /// <summary>The current span's events (or log record's body).</summary>
    public OtlpJson EventJson { get; } = new();

    /// <summary>The current span's links.</summary>
    public OtlpJson LinkJson { get; } = new();

    /// <summary>Items refused (partial success).</summary>
    public Rejections Rejected;

    private OtlpJson ResourceJson { get; } = new();

    private ResourceValues ResourceFlattened { get; } = new();

    /// <summary>
    /// Decodes the export in <paramref name="buffer"/> with <typeparamref name="TItem"/>; throws
    /// <see cref="WireFallbackException"/> or <see cref="Google.Protobuf.InvalidProtocolBufferException"/> when the generated
    /// decoder must rule instead (nothing is left allocated then).
    /// </summary>
    public static MappedRows Map<TItem>(byte[] buffer, int offset, int length, TItem item) where TItem : IWireItemMapper
    {
        var target = new LogsAndSpansRows(CountItems(buffer, offset, length));
        try
        {
            var export = new WireExport(target);
            var r = new OtlpWireReader(buffer, offset, length);
            var depth = 0;
            while (r.More(r.End))
            {
                if (r.ReadTag() != 10) // resource_spans / resource_logs
                {
                    r.Skip();
                    continue;
                }
                var end = r.Enter(ref depth);
                export.Resource(r, end, ref depth, item);
                r.Leave(end, ref depth);
            }
            var rows = target.Rows;
            return new MappedRows(OtelLogsAndSpans.TableName, rows.Count == 0 ? null : rows.Build(), export.Rejected.Count, export.Rejected.First, rows);
        }
        catch
        {
            target.Rows.Dispose();
            throw;
        }
    }

    /// <summary>Sets the current resource's columns (its JSON, the flattened ones) on the current row.</summary>
    public void WriteResource()
    {
        var rows = Target.Rows;
        rows.Utf8(LogsAndSpansRows.ResourceJson, _hasResource ? ResourceJson.Written : "{}"u8);
        ResourceFlattened.ApplyTo(rows);
    }

    /// <summary>The items of the export (to size the column buffers): a skimming pass that skips each item whole.</summary>
    private static int CountItems(byte[] buffer, int offset, int length)
    {
        var r = new OtlpWireReader(buffer, offset, length);
        var depth = 0;
        var items = 0;
        while (r.More(r.End))
        {
            if (r.ReadTag() != 10)
            {
                r.Skip();
                continue;
            }
            var resourceEnd = r.Enter(ref depth);
            while (r.More(resourceEnd))
            {
                if (r.ReadTag() != 18)
                {
                    r.Skip();
                    continue;
                }
                var scopeEnd = r.Enter(ref depth);
                while (r.More(scopeEnd))
                {
                    if (r.ReadTag() == 18) items++;
                    r.Skip();
                }
                r.Leave(scopeEnd, ref depth);
            }
            r.Leave(resourceEnd, ref depth);
        }
        return items;
    }

    private void Resource<TItem>(OtlpWireReader r, int end, ref int depth, TItem item) where TItem : IWireItemMapper
    {
        var resourceSeen = false;
        var itemsSeen = false;
        _hasResource = false;
        ResourceFlattened.Clear();
        while (r.More(end))
        {
            switch (r.ReadTag())
            {
                case 10: // resource: must come before the items it applies to, once
                    if (resourceSeen || itemsSeen) throw new WireFallbackException("resource after items or twice");
                    resourceSeen = true;
                    var resourceEnd = r.Enter(ref depth);
                    ReadResource(r, resourceEnd, ref depth);
                    r.Leave(resourceEnd, ref depth);
                    break;
                case 18: // scope_spans / scope_logs
                    itemsSeen = true;
                    var scopeEnd = r.Enter(ref depth);
                    while (r.More(scopeEnd))
                    {
                        var scopeTag = r.ReadTag();
                        if (scopeTag != 18) // spans / log_records (the scope and schema URL are not stored, but checked)
                        {
                            if (scopeTag == 10) Check(r, InstrumentationScope.Parser);
                            else if (scopeTag == 26) r.Utf8();
                            else r.Skip();
                            continue;
                        }
                        var itemEnd = r.Enter(ref depth);
                        item.Read(r, this, itemEnd, ref depth);
                        r.Leave(itemEnd, ref depth);
                    }
                    r.Leave(scopeEnd, ref depth);
                    break;
                case 26: // schema_url: not stored, but a string the generated messages would refuse if not UTF-8
                    r.Utf8();
                    break;
                default:
                    r.Skip();
                    break;
            }
        }
    }

    /// <summary>
    /// Checks a message field the mapping does not store (a scope, an entity reference) as the generated messages would
    /// parse it: their parser refuses a whole request over invalid UTF-8 in any of its strings, so this decoder must not
    /// accept what they refuse. Once per scope or resource, not per item.
    /// </summary>
    private static void Check<T>(OtlpWireReader r, Google.Protobuf.MessageParser<T> parser) where T : Google.Protobuf.IMessage<T>
    {
        try
        {
            parser.ParseFrom(r.Bytes());
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new WireFallbackException("an unstored field the generated messages refuse");
        }
    }

    private void ReadResource(OtlpWireReader r, int end, ref int depth)
    {
        var w = ResourceJson.Begin();
        w.WriteStartObject();
        while (r.More(end))
        {
            var resourceTag = r.ReadTag();
            if (resourceTag != 10) // attributes (the dropped count and entity refs are not stored, entity refs checked)
            {
                if (resourceTag == 26) Check(r, EntityRef.Parser);
                else r.Skip();
                continue;
            }
            var kvEnd = r.Enter(ref depth);
            WireValues.KeyValue(r, w, kvEnd, ref depth, LogsAndSpansRows.ResourceFlattenedColumns, ResourceFlattened);
            r.Leave(kvEnd, ref depth);
        }
        w.WriteEndObject();
        ResourceJson.End();
        _hasResource = true;
    }
}
