using Apache.Arrow;
using Apache.Arrow.Ipc;
using TimeFusion.Arrow;

namespace TimeFusion.Wire;

/// <summary>Arrow IPC stream encoding of batches, for the wire.</summary>
public static class ArrowIpc
{
    /// <summary>Writes a schema and its batches as one IPC stream.</summary>
    public static byte[] Write(Schema schema, IEnumerable<RecordBatch> batches)
    {
        var list = batches as IReadOnlyCollection<RecordBatch> ?? batches.ToList();
        if (list.Count == 1 && list.First() is var only && ReferenceEquals(only.Schema, schema)
            && !schema.FieldsList.Any(f => HasDictionary(f.DataType)) && only.Arrays.Sum(a => BufferBytes(a.Data)) <= SmallBatchBytes)
            return WriteSmall(only);
        // Sized for the batches' buffers up front: a MemoryStream growing from empty copies a multi-MB batch several
        // times over (and allocates each intermediate array on the large-object heap).
        var bytes = 64 * 1024L;
        foreach (var b in list)
            foreach (var column in b.Arrays) bytes += BufferBytes(column.Data);
        using var stream = new MemoryStream((int)Math.Min(bytes, System.Array.MaxLength));
        using (var writer = new ArrowStreamWriter(stream, schema, leaveOpen: true))
        {
            writer.WriteStart();
            foreach (var b in list) writer.WriteRecordBatch(b);
            writer.WriteEnd();
        }
        return stream.ToArray();
    }

    private const long SmallBatchBytes = 256 * 1024;

    /// <summary>
    /// One large batch (above <see cref="SmallBatchBytes"/>, no dictionaries) written as an IPC stream into an array rented
    /// from <see cref="System.Buffers.ArrayPool{T}.Shared"/>: the caller copies the first <c>Length</c> bytes out and
    /// returns the array. Null when the batch is small (see <see cref="Write"/>) or outgrew its estimate. Sending a multi-MB
    /// batch then allocates nothing on the large-object heap (two fresh arrays per 8 K-row batch before, each collected
    /// with generation 2 only; docs/BENCHMARKS.md, session 13).
    /// </summary>
    internal static (byte[] Buffer, int Length)? WriteRented(RecordBatch batch)
    {
        if (batch.Schema.FieldsList.Any(f => HasDictionary(f.DataType))) return null;
        var bytes = 64 * 1024L;
        foreach (var column in batch.Arrays) bytes += BufferBytes(column.Data);
        if (bytes - 64 * 1024 <= SmallBatchBytes || bytes > System.Array.MaxLength) return null;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)bytes);
        try
        {
            // A fixed-size stream over the rented array: an estimate too small throws rather than growing.
            using var stream = new MemoryStream(buffer, 0, buffer.Length, writable: true, publiclyVisible: true);
            using (var writer = new ArrowStreamWriter(stream, batch.Schema, leaveOpen: true))
            {
                writer.WriteStart();
                writer.WriteRecordBatch(batch);
                writer.WriteEnd();
            }
            return (buffer, (int)stream.Position);
        }
        catch (NotSupportedException)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            return null;
        }
    }

    /// <summary>
    /// One small batch: its schema's message bytes come from <see cref="SchemaMessages"/> (built once per schema
    /// object), then the batch message and the end marker. Building the ~90-field otel schema's flatbuffer on every
    /// write was most of the cost of sending a small batch through Orleans (docs/BENCHMARKS.md).
    /// </summary>
    private static byte[] WriteSmall(RecordBatch batch)
    {
        var schema = SchemaMessages.GetValue(batch.Schema, s => ArrowSerializationHelpers.SerializeSchema(s));
        var rest = ArrowSerializationHelpers.SerializeRecordBatch(batch); // the batch message and the end-of-stream marker
        var bytes = new byte[schema.Length + rest.Length];
        schema.CopyTo(bytes, 0);
        rest.CopyTo(bytes, schema.Length);
        return bytes;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Schema, byte[]> SchemaMessages = new();

    // Dictionary batches travel as messages of their own, which the single-message path does not write.
    private static bool HasDictionary(Apache.Arrow.Types.IArrowType type) => type switch
    {
        Apache.Arrow.Types.DictionaryType => true,
        Apache.Arrow.Types.NestedType nested => nested.Fields.Any(f => HasDictionary(f.DataType)),
        _ => false,
    };

    /// <summary>About the bytes <paramref name="batch"/> holds (its buffers, children and dictionaries, plus a little per array).</summary>
    public static long BytesOf(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long bytes = 0;
        foreach (var column in batch.Arrays) bytes += BufferBytes(column.Data);
        return bytes;
    }

    // The bytes of an array's buffers (children and dictionary included), with room for IPC's 8-byte alignment and metadata.
    private static long BufferBytes(ArrayData data)
    {
        var bytes = 256L;
        foreach (var buffer in data.Buffers) bytes += buffer.Length + 8;
        if (data.Children is { } children)
            foreach (var child in children) bytes += BufferBytes(child);
        if (data.Dictionary is { } dictionary) bytes += BufferBytes(dictionary);
        return bytes;
    }

    /// <summary>
    /// Reads an IPC stream back into its schema and batches. The bytes are untrusted (they crossed the network):
    /// <see cref="ArrowIpcPreflight"/> checks their structure before Apache.Arrow's reader parses them, so a hostile
    /// schema is an exception rather than a stack overflow. The batches' buffers are not checked here; whoever hands
    /// them to code that trusts buffers validates them first. The batches refer to <paramref name="ipc"/>: the caller must
    /// not change or reuse the array while they live.
    /// </summary>
    /// <exception cref="ArrowValidationException">The stream is malformed or hostile.</exception>
    public static (Schema Schema, List<RecordBatch> Batches) Read(byte[] ipc)
    {
        ArgumentNullException.ThrowIfNull(ipc);
        var messages = new List<ArrowIpcPreflight.Message>();
        ArrowIpcPreflight.CheckStream(ipc, messages);
        if (ReadWithKnownSchema(ipc, messages) is { } known)
            return known;
        // Read over the managed bytes, not a stream: the batches' buffers are slices of `ipc` (kept alive by them), where a
        // stream reader copies every buffer into native memory that, undisposed, a finalizer frees with
        // GC.RemoveMemoryPressure — for small batches a large share of the silo's CPU (docs/BENCHMARKS.md, small INSERTs).
        using var reader = new ArrowStreamReader(new ReadOnlyMemory<byte>(ipc));
        var batches = new List<RecordBatch>();
        while (reader.ReadNextRecordBatch() is { } batch) batches.Add(batch);
        return (reader.Schema, batches);
    }

    /// <summary>
    /// A stream of a schema and record batches only (no dictionaries): the schema is taken from <see cref="Schemas"/>
    /// when its bytes were seen before, and each batch is read against it. Parsing the schema message was most of the
    /// cost of decoding a small batch of a wide table (the ~90-field otel schema: <c>Schema..ctor</c> and
    /// <c>GetSchema</c> ~11 % of the silo's CPU for 30-row batches through Orleans, docs/BENCHMARKS.md). Null otherwise.
    /// </summary>
    private static (Schema Schema, List<RecordBatch> Batches)? ReadWithKnownSchema(byte[] ipc, List<ArrowIpcPreflight.Message> messages)
    {
        if (messages.Count == 0 || !messages[0].IsSchema)
            return null;
        for (var i = 1; i < messages.Count; i++)
            if (!messages[i].IsRecordBatch)
                return null;
        var schema = Schemas.Get(ipc.AsMemory(messages[0].Offset, messages[0].Length));
        var batches = new List<RecordBatch>(messages.Count - 1);
        for (var i = 1; i < messages.Count; i++)
            batches.Add(ArrowSerializationHelpers.DeserializeRecordBatch(schema, ipc.AsMemory(messages[i].Offset, messages[i].Length)));
        return (schema, batches);
    }

    /// <summary>Parsed schemas by their IPC message bytes (immutable objects, shared by every batch read against them).</summary>
    private static readonly SchemaCache Schemas = new();

    private sealed class SchemaCache
    {
        // Bounded: the bytes come from clients too; a flood of distinct schemas only empties the cache.
        private const int MaxEntries = 256;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<byte[], Schema> _byBytes = new(new BytesComparer());

        public Schema Get(ReadOnlyMemory<byte> message)
        {
            // Looked up by the span: a hit copies nothing.
            if (_byBytes.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(message.Span, out var schema))
                return schema;
            schema = ArrowSerializationHelpers.DeserializeSchema(message);
            if (_byBytes.Count >= MaxEntries)
                _byBytes.Clear();
            _byBytes.TryAdd(message.ToArray(), schema);
            return schema;
        }
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] bytes) => GetHashCode((ReadOnlySpan<byte>)bytes);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
