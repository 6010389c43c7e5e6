using Apache.Arrow;
using Apache.Arrow.Flight;
using Grpc.Core;
using TimeFusion.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Flight;

/// <summary>
/// The record batches of a DoPut read from its <see cref="FlightPutData"/> messages: each message's metadata is checked
/// (<see cref="ArrowIpcPreflight"/>, as <see cref="FlightIpcPreflightInterceptor"/> does for Apache.Arrow.Flight's
/// reader), the schema is read once, and each batch is decoded over its message's array, no copy; a batch received into
/// a pinned array is recorded as such (<see cref="ReceivedBatches"/>) so the table keeps its rows where they are. A stream
/// with dictionaries decodes each batch with the dictionaries before it (the rows are then copied by the table).
/// Malformed input ends the call with InvalidArgument (<c>22023</c> for refused Arrow), as the library's reader does.
/// </summary>
internal sealed class FlightPutBatches(IAsyncStreamReader<FlightPutData> messages)
{
    private bool _sawSchema;
    private Schema? _schema;
    private byte[]? _schemaMessage;
    private List<byte[]>? _dictionaries;
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
                    (_dictionaries ??= []).Add(message);
                    return null;
                default:
                    return _dictionaries is null ? ReadInPlace(data, message) : ReadWithDictionaries(message);
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

    // The schema, the dictionaries so far and the batch as one IPC stream (dictionary streams are rare; this copies).
    private RecordBatch ReadWithDictionaries(byte[] message)
    {
        var dictionaries = _dictionaries!;
        var length = _schemaMessage!.Length + dictionaries.Sum(d => d.Length) + message.Length + 8;
        var stream = new byte[length];
        var offset = 0;
        foreach (var part in dictionaries.Prepend(_schemaMessage).Append(message))
        {
            part.CopyTo(stream, offset);
            offset += part.Length;
        }
        stream.AsSpan(offset, 4).Fill(0xFF); // end of stream: continuation marker, length 0
        var (_, batches) = ArrowIpc.Read(stream);
        return batches.Single();
    }
}
