using System.Buffers;
using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Ipc;
using Google.Protobuf;
using Grpc.Core;
using TimeFusion.Arrow;

namespace TimeFusion.Client.Cli.Flight;

/// <summary>
/// Writes one DoPut's <c>FlightData</c> messages (arrow/format/Flight.proto) straight into gRPC's send buffer. Apache.Arrow's
/// own <see cref="ArrowStreamWriter"/> produces the IPC stream into this write-only stream, which takes each message apart as
/// it arrives: the 8-byte prefix and the metadata flatbuffer are held (a few hundred bytes); the metadata's body length then
/// gives the protobuf's size, so the message's header fields are written into
/// <see cref="SerializationContext.GetBufferWriter"/> and the body bytes are forwarded there as the writer hands them over —
/// one copy from the arrays into the buffer gRPC sends from. Apache.Arrow.Flight's writer instead serializes each batch into
/// a growing <c>MemoryStream</c>, copies it into a <c>ByteString</c>, and Google.Protobuf copies that into gRPC's buffer.
/// </summary>
/// <remarks>
/// One gRPC message is one serializer call, but the first batch of a stream with dictionary-encoded columns makes Arrow's
/// writer emit its dictionary batches before the record batch. The first message of a call goes into gRPC's buffer; any
/// further ones are held (<see cref="TryTakeHeld"/>) and sent as messages of their own right after, in order.
/// Not thread-safe: one call's messages are serialized one at a time.
/// </remarks>
internal sealed class FlightDataEncoder : Stream
{
    // FlightData's fields: descriptor (1), data_header (2), data_body (1000); all length-delimited.
    private const byte DescriptorTag = 1 << 3 | 2, HeaderTag = 2 << 3 | 2;
    private static ReadOnlySpan<byte> BodyTag => [0xC2, 0x3E]; // (1000 << 3 | 2) as a varint
    private const int PrefixBytes = 8;

    private readonly ArrowStreamWriter _writer;
    private readonly byte[] _descriptor;
    private readonly Queue<ReadOnlyMemory<byte>> _held = new();
    private readonly byte[] _prefix = new byte[PrefixBytes];
    private byte[] _metadata = new byte[1024];
    private int _prefixFill, _metadataLength, _metadataFill;
    private long _bodyLeft;
    private State _state;
    private bool _descriptorSent, _sawSchema;
    private SerializationContext? _context;
    private bool _contextUsed;
    private IBufferWriter<byte>? _target;
    private ArrayBufferWriter<byte>? _holding;

    /// <param name="descriptor">Sent with the first message (the schema).</param>
    /// <param name="schema">The stream's schema; every batch must have it.</param>
    public FlightDataEncoder(FlightDescriptor descriptor, Schema schema)
    {
        _descriptor = Serialize(descriptor);
        _writer = new ArrowStreamWriter(this, schema, leaveOpen: true);
    }

    private enum State : byte
    {
        Prefix,
        Metadata,
        Body,
    }

    /// <summary>Why a message could not be encoded (the writer is unusable after it), else null.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>
    /// Serializes one gRPC message into <paramref name="context"/>: the schema (with the descriptor) when
    /// <paramref name="batch"/> is null, else the batch (and, first, any dictionaries it needs: see <see cref="TryTakeHeld"/>).
    /// </summary>
    public void Encode(RecordBatch? batch, SerializationContext context)
    {
        if (Failure is not null) throw new InvalidOperationException("an earlier message of this DoPut could not be encoded", Failure);
        _context = context;
        _contextUsed = false;
        try
        {
            if (batch is null) _writer.WriteStart();
            else _writer.WriteRecordBatch(batch);
            if (_state != State.Prefix || _prefixFill != 0 || !_contextUsed)
                throw new InvalidOperationException("Arrow's stream writer did not write whole messages");
        }
        catch (Exception e)
        {
            Failure = e;
            throw;
        }
        finally
        {
            _context = null;
            _target = null;
        }
    }

    /// <summary>Serializes a message held back by <see cref="Encode"/> (its whole protobuf) into <paramref name="context"/>.</summary>
    public static void EncodeHeld(ReadOnlyMemory<byte> payload, SerializationContext context)
    {
        context.SetPayloadLength(payload.Length);
        context.GetBufferWriter().Write(payload.Span);
        context.Complete();
    }

    /// <summary>Takes the next message the last <see cref="Encode"/> could not put into its own gRPC message (dictionaries).</summary>
    public bool TryTakeHeld(out ReadOnlyMemory<byte> payload) => _held.TryDequeue(out payload);

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n;
            switch (_state)
            {
                case State.Prefix:
                    n = Math.Min(PrefixBytes - _prefixFill, buffer.Length);
                    buffer[..n].CopyTo(_prefix.AsSpan(_prefixFill));
                    _prefixFill += n;
                    if (_prefixFill == PrefixBytes) StartMetadata();
                    break;
                case State.Metadata:
                    n = Math.Min(_metadataLength - _metadataFill, buffer.Length);
                    buffer[..n].CopyTo(_metadata.AsSpan(_metadataFill));
                    _metadataFill += n;
                    if (_metadataFill == _metadataLength) StartMessage();
                    break;
                default:
                    n = (int)Math.Min(_bodyLeft, buffer.Length);
                    _target!.Write(buffer[..n]);
                    _bodyLeft -= n;
                    if (_bodyLeft == 0) EndMessage();
                    break;
            }
            buffer = buffer[n..];
        }
    }

    private void StartMetadata()
    {
        _prefixFill = 0;
        // Arrow's writer uses the continuation marker (not the pre-1.0 framing) and never writes the end-of-stream
        // marker here: a Flight stream ends with the call.
        if (BinaryPrimitives.ReadInt32LittleEndian(_prefix) != -1) throw new InvalidOperationException("unexpected IPC framing (no continuation marker)");
        _metadataLength = BinaryPrimitives.ReadInt32LittleEndian(_prefix.AsSpan(4));
        if (_metadataLength <= 0) throw new InvalidOperationException($"unexpected IPC metadata length {_metadataLength}");
        if (_metadata.Length < _metadataLength) _metadata = new byte[Math.Max(_metadataLength, _metadata.Length * 2)];
        _metadataFill = 0;
        _state = State.Metadata;
    }

    private void StartMessage()
    {
        var metadata = _metadata.AsSpan(0, _metadataLength);
        // The same check the server runs on each message; here it reads the body length the metadata declares.
        var body = ArrowIpcPreflight.CheckMessage(metadata, long.MaxValue, ref _sawSchema);
        byte[] descriptor = _descriptorSent ? [] : _descriptor;
        var payload = (descriptor.Length > 0 ? 1 + CodedOutputStream.ComputeLengthSize(descriptor.Length) + descriptor.Length : 0)
            + 1 + CodedOutputStream.ComputeLengthSize(metadata.Length) + (long)metadata.Length
            + (body > 0 ? BodyTag.Length + ComputeLongLengthSize(body) + body : 0);
        if (payload > System.Array.MaxLength) throw new InvalidOperationException($"a FlightData message of {payload} bytes (batch too large)");
        var target = Begin((int)payload);
        Span<byte> varint = stackalloc byte[10];
        if (descriptor.Length > 0)
        {
            target.Write([DescriptorTag]);
            target.Write(varint[..WriteVarint(varint, (ulong)descriptor.Length)]);
            target.Write(descriptor);
            _descriptorSent = true;
        }
        target.Write([HeaderTag]);
        target.Write(varint[..WriteVarint(varint, (ulong)metadata.Length)]);
        target.Write(metadata);
        _bodyLeft = body;
        if (body == 0)
        {
            EndMessage();
            return;
        }
        target.Write(BodyTag);
        target.Write(varint[..WriteVarint(varint, (ulong)body)]);
        _state = State.Body;
    }

    private IBufferWriter<byte> Begin(int payload)
    {
        if (_context is null) throw new InvalidOperationException("the encoder writes only inside a gRPC serializer call");
        if (!_contextUsed)
        {
            // With the length known, gRPC rents one buffer for its 5-byte frame header and the message and sends it as is.
            _context.SetPayloadLength(payload);
            _contextUsed = true;
            _holding = null;
            return _target = _context.GetBufferWriter();
        }
        return _target = _holding = new ArrayBufferWriter<byte>(payload);
    }

    private void EndMessage()
    {
        if (_holding is not null) _held.Enqueue(_holding.WrittenMemory);
        else _context!.Complete();
        _holding = null;
        _target = null;
        _state = State.Prefix;
    }

    private static int ComputeLongLengthSize(long length) => CodedOutputStream.ComputeInt64Size(length);

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        var i = 0;
        for (; value >= 0x80; value >>= 7) destination[i++] = (byte)(value | 0x80);
        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>A <c>FlightDescriptor</c> protobuf: type (1), cmd (2), path (3).</summary>
    private static byte[] Serialize(FlightDescriptor descriptor)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteEnum((int)descriptor.Type);
        if (descriptor.Type == FlightDescriptorType.Command)
        {
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(descriptor.Command);
        }
        foreach (var path in descriptor.Paths)
        {
            output.WriteTag(3, WireFormat.WireType.LengthDelimited);
            output.WriteString(path);
        }
        output.Flush();
        return stream.ToArray();
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _writer.Dispose();
        base.Dispose(disposing);
    }
}
