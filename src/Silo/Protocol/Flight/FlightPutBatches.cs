using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Ipc;
using Grpc.Core;
using TimeFusion.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// The record batches of a DoPut read from its <see cref="FlightPutData"/> messages: each message's metadata is checked
/// (<see cref="ArrowIpcPreflight"/>, as <see cref="FlightIpcPreflightInterceptor"/> does for Apache.Arrow.Flight's
/// reader), the schema is read once, and each batch is decoded over its message's array, no copy; a batch received into
/// a pinned array is recorded as such (<see cref="ReceivedBatches"/>) so the table keeps its rows where they are. A stream
/// with dictionaries is decoded by Arrow's stream reader, fed message by message (the rows are then copied by the table).
/// Malformed input ends the call with InvalidArgument (<c>22023</c> for refused Arrow), as the library's reader does.
/// </summary>
internal sealed class FlightPutBatches(IAsyncStreamReader<FlightPutData> messages)
{
    private bool _sawSchema;
    private Schema? _schema;
    private byte[]? _schemaMessage;
    // A stream with dictionaries is read by Arrow's own stream reader, fed one message at a time: it keeps the
    // dictionaries (replacements and deltas as the format says), so nothing is held or decoded again per batch.
    private MessageQueueStream? _dictionaryStream;
    private ArrowStreamReader? _dictionaryReader;
    private FlightPutData? _pending;

    /// <summary>
    /// Reads the first message, which carries the descriptor (with the schema, or before it); null when the stream is
    /// empty or the first message has none.
    /// </summary>
    public async Task<FlightDescriptor?> ReadDescriptorAsync(CancellationToken ct)
    {
        if (!await messages.MoveNext(ct)) return null;
        _pending = messages.Current;
        if (_pending.Error is { } error)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "unreadable Arrow stream: " + error));
        return _pending.Descriptor;
    }

    /// <summary>The next record batch, or null at the end of the stream.</summary>
    public async Task<RecordBatch?> ReadNextAsync(CancellationToken ct)
    {
        while (true)
        {
            FlightPutData data;
            if (_pending is not null)
            {
                (data, _pending) = (_pending, null);
            }
            else
            {
                if (!await messages.MoveNext(ct)) return null;
                data = messages.Current;
            }
            if (Decode(data) is { } batch) return batch;
        }
    }

    private RecordBatch? Decode(FlightPutData data)
    {
        if (data.Error is { } error)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "unreadable Arrow stream: " + error));
        if (data.Message is not { } message) return null; // metadata only
        ArrowMessageKind kind;
        try
        {
            ArrowIpcPreflight.CheckMessage(data.Header, data.BodyLength, ref _sawSchema, out kind);
        }
        catch (ArrowValidationException e)
        {
            throw FlightErrors.From(SqlState.InvalidParameterValue, "malformed Arrow data: " + e.Message);
        }
        try
        {
            switch (kind)
            {
                case ArrowMessageKind.Schema:
                    _schemaMessage = message;
                    _schema = ArrowSerializationHelpers.DeserializeSchema(message);
                    return null;
                case ArrowMessageKind.DictionaryBatch:
                    if (_dictionaryStream is null)
                    {
                        _dictionaryStream = new MessageQueueStream();
                        _dictionaryStream.Add(_schemaMessage!);
                        _dictionaryReader = new ArrowStreamReader(_dictionaryStream);
                    }
                    _dictionaryStream.Add(message);
                    return null;
                default:
                    if (_dictionaryStream is null) return ReadInPlace(data, message);
                    _dictionaryStream.Add(message);
                    return _dictionaryReader!.ReadNextRecordBatch() ?? throw new InvalidDataException("a record batch message held no batch");
            }
        }
        catch (Exception e) when (e is not (RpcException or OperationCanceledException))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "unreadable Arrow stream: " + e.Message));
        }
    }

    private RecordBatch ReadInPlace(FlightPutData data, byte[] message)
    {
        var batch = ArrowSerializationHelpers.DeserializeRecordBatch(_schema!, message);
        if (data.IsPinned) ReceivedBatches.Add(batch, message, data.ReadStarted, data.ReadEnded);
        return batch;
    }

    /// <summary>
    /// The messages of a dictionary stream, read in order by <see cref="ArrowStreamReader"/>: each is added before the
    /// reader is asked for the batch it completes, so a read never finds the queue empty mid-message.
    /// </summary>
    private sealed class MessageQueueStream : Stream
    {
        private readonly Queue<byte[]> _messages = new();
        private int _offset;

        public void Add(byte[] message) => _messages.Enqueue(message);

        public override int Read(Span<byte> buffer)
        {
            var read = 0;
            while (read < buffer.Length && _messages.TryPeek(out var head))
            {
                var n = Math.Min(buffer.Length - read, head.Length - _offset);
                head.AsSpan(_offset, n).CopyTo(buffer[read..]);
                read += n;
                _offset += n;
                if (_offset == head.Length)
                {
                    _messages.Dequeue();
                    _offset = 0;
                }
            }
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
