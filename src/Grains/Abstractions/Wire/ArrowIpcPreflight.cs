using System.Buffers.Binary;

namespace TimeFusion.Arrow;

/// <summary>
/// Checks the message structure of an Arrow IPC stream before Apache.Arrow's reader parses it. The reader recurses
/// over the schema's nested fields and follows flatbuffer offsets as given, so a hostile schema (nesting thousands
/// deep, or children that point back at shared tables and expand exponentially) could exhaust the stack — a crash
/// no exception handler can catch. This walks the framing and the schema iteratively with every offset
/// bounds-checked, and rejects: truncated or oversized messages, big-endian data, more than one schema, delta
/// dictionaries (their concatenation allocates by declared lengths), nesting deeper than
/// <see cref="MaxNestingDepth"/>, more than <see cref="MaxFields"/> fields, and bytes after the
/// end-of-stream marker. Pure managed code, run wherever untrusted Arrow IPC bytes are decoded: WAL replay, the
/// Orleans codec (<see cref="Wire.ArrowIpc.Read"/>) and Flight DoPut (message by message, <see cref="CheckMessage(ReadOnlySpan{byte}, long, ref bool)"/>).
/// </summary>
public static class ArrowIpcPreflight
{
    /// <summary>Nesting deeper than this is rejected (it only appears in hostile input).</summary>
    public const int MaxNestingDepth = 64;

    /// <summary>The most schema fields (counting nested ones) a stream may declare.</summary>
    public const int MaxFields = 100_000;

    private const byte HeaderSchema = 1, HeaderDictionaryBatch = 2, HeaderRecordBatch = 3;

    /// <summary>Throws <see cref="ArrowValidationException"/> unless <paramref name="stream"/> is a well-framed IPC stream.</summary>
    public static void CheckStream(ReadOnlySpan<byte> stream) => CheckStream(stream, null);

    /// <summary>One message of a checked stream: where it starts (its length prefix), its whole length (prefix, metadata and body) and its type.</summary>
    internal readonly record struct Message(int Offset, int Length, bool IsSchema, bool IsRecordBatch);

    /// <summary>As <see cref="CheckStream(ReadOnlySpan{byte})"/>, listing the messages it checked in <paramref name="messages"/> when given.</summary>
    internal static void CheckStream(ReadOnlySpan<byte> stream, List<Message>? messages)
    {
        var position = 0;
        var sawSchema = false;
        while (position < stream.Length)
        {
            var start = position;
            if (stream.Length - position < 4) throw Fail($"{stream.Length - position} stray bytes at {position}");
            var length = BinaryPrimitives.ReadInt32LittleEndian(stream[position..]);
            position += 4;
            if (length == -1)
            {
                if (stream.Length - position < 4) throw Fail($"message length missing at {position}");
                length = BinaryPrimitives.ReadInt32LittleEndian(stream[position..]);
                position += 4;
            }
            if (length == 0)
            {
                if (position != stream.Length) throw Fail($"{stream.Length - position} bytes after the end-of-stream marker");
                break;
            }
            if (length < 0 || length > stream.Length - position) throw Fail($"message metadata of {length} bytes at {position} does not fit the stream");
            var (header, body) = CheckMessageHeader(stream.Slice(position, length), stream.Length - position - length, ref sawSchema);
            position += length + (int)body;
            messages?.Add(new Message(start, position - start, header == HeaderSchema, header == HeaderRecordBatch));
        }
        if (!sawSchema) throw Fail("no schema message");
    }

    /// <summary>
    /// Checks one IPC message's metadata (a flatbuffer <c>Message</c>, without the length prefix) whose body has
    /// <paramref name="availableBodyBytes"/> bytes at most; <paramref name="sawSchema"/> carries the stream's state
    /// from message to message (start with false). Returns the body length the message declares.
    /// </summary>
    /// <exception cref="ArrowValidationException">The message is malformed or not acceptable here.</exception>
    public static long CheckMessage(ReadOnlySpan<byte> metadata, long availableBodyBytes, ref bool sawSchema) =>
        CheckMessageHeader(metadata, availableBodyBytes, ref sawSchema).BodyLength;

    /// <summary>As <see cref="CheckMessage(ReadOnlySpan{byte}, long, ref bool)"/>, also giving the message's <paramref name="kind"/>.</summary>
    /// <exception cref="ArrowValidationException">The message is malformed or not acceptable here.</exception>
    public static long CheckMessage(ReadOnlySpan<byte> metadata, long availableBodyBytes, ref bool sawSchema, out ArrowMessageKind kind)
    {
        var (header, body) = CheckMessageHeader(metadata, availableBodyBytes, ref sawSchema);
        kind = (ArrowMessageKind)header;
        return body;
    }

    private static (byte Header, long BodyLength) CheckMessageHeader(ReadOnlySpan<byte> metadata, long availableBodyBytes, ref bool sawSchema)
    {
        var (header, body) = CheckHeader(metadata, sawSchema);
        if (body < 0 || body > availableBodyBytes) throw Fail($"message body of {body} bytes does not fit the stream ({availableBodyBytes} bytes left)");
        if (header == HeaderSchema) sawSchema = true;
        return (header, body);
    }

    private static (byte Header, long BodyLength) CheckHeader(ReadOnlySpan<byte> buffer, bool sawSchema)
    {
        var fb = new Flatbuffer(buffer);
        var message = fb.Root();
        var headerType = fb.Scalar<byte>(message, 1);
        var bodyLength = fb.Scalar<long>(message, 3);
        var header = fb.Table(message, 2) ?? throw Fail("message without a header");
        switch (headerType)
        {
            case HeaderSchema:
                if (sawSchema) throw Fail("a second schema message");
                CheckSchema(fb, header);
                break;
            case HeaderDictionaryBatch:
                if (!sawSchema) throw Fail("dictionary batch before the schema");
                if (fb.Scalar<byte>(header, 2) != 0) throw Fail("delta dictionary batches are not accepted");
                if (fb.Table(header, 1) is { } data) CheckRecordBatch(fb, data, bodyLength);
                break;
            case HeaderRecordBatch:
                if (!sawSchema) throw Fail("record batch before the schema");
                CheckRecordBatch(fb, header, bodyLength);
                break;
            default:
                throw Fail($"unsupported message type {headerType}");
        }
        return (headerType, bodyLength);
    }

    /// <summary>
    /// A record batch's (or a dictionary batch's data's) lengths, field nodes and buffers: the reader sizes lists by the
    /// vectors' declared counts and takes buffers by their declared extents, so a count past the metadata (seen:
    /// OutOfMemoryException from a mutated WAL entry), a negative length or a buffer outside the body is refused here.
    /// </summary>
    private static void CheckRecordBatch(Flatbuffer fb, int batch, long bodyLength)
    {
        var length = fb.Scalar<long>(batch, 0);
        if (length is < 0 or > int.MaxValue) throw Fail($"a record batch of {length} rows");
        var (nodes, nodeCount) = fb.Vector(batch, 1, 16);
        for (var i = 0; i < nodeCount; i++)
        {
            var nodeLength = fb.Int64(nodes + 16 * i);
            var nulls = fb.Int64(nodes + 16 * i + 8);
            if (nodeLength is < 0 or > int.MaxValue || nulls < 0 || nulls > nodeLength) throw Fail($"field node {i} declares {nodeLength} values, {nulls} null");
        }
        var (buffers, bufferCount) = fb.Vector(batch, 2, 16);
        for (var i = 0; i < bufferCount; i++)
        {
            var offset = fb.Int64(buffers + 16 * i);
            var size = fb.Int64(buffers + 16 * i + 8);
            if (offset < 0 || size < 0 || offset > bodyLength || size > bodyLength - offset) throw Fail($"buffer {i} ({size} bytes at {offset}) is outside the {bodyLength}-byte body");
        }
        var (variadic, variadicCount) = fb.Vector(batch, 4, 8);
        for (var i = 0; i < variadicCount; i++)
        {
            var count = fb.Int64(variadic + 8 * i);
            if (count < 0 || count > bufferCount) throw Fail($"variadic buffer count {count} with {bufferCount} buffers");
        }
    }

    private static void CheckSchema(Flatbuffer fb, int schema)
    {
        if (fb.Scalar<short>(schema, 0) != 0) throw Fail("big-endian data is not accepted");
        var stack = new Stack<(int Table, int Depth)>();
        Push(fb, stack, schema, 1, 1);
        var fields = 0;
        while (stack.Count > 0)
        {
            var (field, depth) = stack.Pop();
            if (++fields > MaxFields) throw Fail($"the schema declares more than {MaxFields} fields");
            if (depth > MaxNestingDepth) throw Fail($"the schema nests deeper than {MaxNestingDepth}");
            Push(fb, stack, field, 5, depth + 1);
        }
    }

    /// <summary>Pushes the tables of the offset vector in field <paramref name="vectorField"/> of <paramref name="table"/>.</summary>
    private static void Push(Flatbuffer fb, Stack<(int, int)> stack, int table, int vectorField, int depth)
    {
        var (start, count) = fb.Vector(table, vectorField, 4);
        for (var i = 0; i < count; i++)
        {
            if (stack.Count >= MaxFields) throw Fail($"the schema declares more than {MaxFields} fields");
            stack.Push((fb.Indirect(start + 4 * i), depth));
        }
    }

    private static ArrowValidationException Fail(string problem) => new($"Arrow IPC stream: {problem}");

    /// <summary>Bounds-checked reads of flatbuffer tables, vtables and vectors.</summary>
    private readonly ref struct Flatbuffer(ReadOnlySpan<byte> buffer)
    {
        private readonly ReadOnlySpan<byte> _buffer = buffer;

        public int Root() => Indirect(0);

        /// <summary>Follows the unsigned offset stored at <paramref name="at"/>.</summary>
        public int Indirect(int at)
        {
            var target = (long)at + U32(at);
            if (target >= _buffer.Length) throw Fail("flatbuffer offset out of bounds");
            return (int)target;
        }

        /// <summary>The position of field <paramref name="index"/> of a table, or -1 when absent.</summary>
        private int Field(int table, int index)
        {
            var vtable = (long)table - BinaryPrimitives.ReadInt32LittleEndian(Bytes(table, 4));
            if (vtable < 0 || vtable + 4 > _buffer.Length) throw Fail("flatbuffer vtable out of bounds");
            var vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(Bytes((int)vtable, 2));
            var entry = 4 + 2 * index;
            if (entry + 2 > vtableSize) return -1;
            var offset = BinaryPrimitives.ReadUInt16LittleEndian(Bytes((int)vtable + entry, 2));
            if (offset == 0) return -1;
            var at = (long)table + offset;
            if (at >= _buffer.Length) throw Fail("flatbuffer field out of bounds");
            return (int)at;
        }

        public T Scalar<T>(int table, int index) where T : unmanaged
        {
            var at = Field(table, index);
            if (at < 0) return default;
            var bytes = Bytes(at, System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
            return System.Runtime.InteropServices.MemoryMarshal.Read<T>(bytes);
        }

        public int? Table(int table, int index)
        {
            var at = Field(table, index);
            return at < 0 ? null : Indirect(at);
        }

        /// <summary>Start and count of a vector field whose elements are <paramref name="elementSize"/> bytes.</summary>
        public (int Start, int Count) Vector(int table, int index, int elementSize)
        {
            var at = Field(table, index);
            if (at < 0) return (0, 0);
            var vector = Indirect(at);
            var count = U32(vector);
            if (vector + 4L + count * (long)elementSize > _buffer.Length) throw Fail("flatbuffer vector out of bounds");
            return (vector + 4, (int)count);
        }

        private uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(at, 4));

        /// <summary>The little-endian int64 at <paramref name="at"/> (a vector element).</summary>
        public long Int64(int at) => BinaryPrimitives.ReadInt64LittleEndian(Bytes(at, 8));

        private ReadOnlySpan<byte> Bytes(int at, int count)
        {
            if (at < 0 || (long)at + count > _buffer.Length) throw Fail("flatbuffer read out of bounds");
            return _buffer.Slice(at, count);
        }
    }
}

/// <summary>The kinds of IPC message <see cref="ArrowIpcPreflight"/> accepts (the flatbuffer <c>MessageHeader</c> values).</summary>
public enum ArrowMessageKind : byte
{
    /// <summary>The stream's schema.</summary>
    Schema = 1,

    /// <summary>A dictionary batch.</summary>
    DictionaryBatch = 2,

    /// <summary>A record batch.</summary>
    RecordBatch = 3,
}
