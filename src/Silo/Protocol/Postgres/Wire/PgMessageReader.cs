using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Wire;

/// <summary>
/// Reads frontend messages from a <see cref="PipeReader"/>. Lengths are checked against the cap before
/// anything is allocated; a body is copied into a pooled array of exactly its size as it arrives, so the
/// pipe never holds more than one read's worth. A read cancelled mid-message resumes where it stopped.
/// </summary>
internal sealed class PgMessageReader(PipeReader reader, int maxMessageBytes)
{
    // A body buffer starts small and grows as bytes actually arrive: a length field alone reserves nothing.
    private const int InitialBodyBytes = 64 * 1024;

    private byte _pendingType;
    private byte[]? _pendingBody;
    private int _pendingLength;
    private int _pendingFilled;
    private bool _hasPending;

    /// <summary>
    /// Reads the startup-phase packet (no type byte: length then body). Returns null at end of stream.
    /// </summary>
    public async ValueTask<FrontendMessage?> ReadStartupPacketAsync(int maxBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= 4)
            {
                var length = ReadInt32(buffer);
                if (length < 8 || length > maxBytes)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new PgProtocolException($"invalid length of startup packet: {length}");
                }
                if (buffer.Length >= length)
                {
                    var body = ArrayPool<byte>.Shared.Rent(length - 4);
                    buffer.Slice(4, length - 4).CopyTo(body);
                    reader.AdvanceTo(buffer.GetPosition(length));
                    return new FrontendMessage(0, body, length - 4);
                }
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>The largest body accepted (lowered during authentication).</summary>
    public int MaxMessageBytes { get; set; } = maxMessageBytes;

    /// <summary>Reads the next typed message. Returns null at end of stream (also mid-message: the client went away).</summary>
    public async ValueTask<FrontendMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (!_hasPending && buffer.Length >= 5)
            {
                var type = buffer.FirstSpan[0];
                var length = ReadInt32(buffer.Slice(1));
                if (length < 4)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new PgProtocolException($"invalid message length {length} for message type 0x{type:X2}");
                }
                if (length - 4 > MaxMessageBytes)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new PgProtocolException(
                        $"message of type 0x{type:X2} is {length - 4} bytes, more than the limit of {MaxMessageBytes}",
                        SqlState.ProgramLimitExceeded);
                }
                _pendingType = type;
                _pendingLength = length - 4;
                _pendingFilled = 0;
                _pendingBody = _pendingLength == 0 ? null : ArrayPool<byte>.Shared.Rent(Math.Min(_pendingLength, InitialBodyBytes));
                _hasPending = true;
                buffer = buffer.Slice(5);
            }
            if (_hasPending)
            {
                var take = (int)Math.Min(buffer.Length, _pendingLength - _pendingFilled);
                if (take > 0)
                {
                    if (_pendingFilled + take > _pendingBody!.Length)
                    {
                        var size = (int)Math.Min(_pendingLength, Math.Max((long)_pendingBody.Length * 2, _pendingFilled + take));
                        var bigger = ArrayPool<byte>.Shared.Rent(size);
                        _pendingBody.AsSpan(0, _pendingFilled).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(_pendingBody);
                        _pendingBody = bigger;
                    }
                    buffer.Slice(0, take).CopyTo(_pendingBody.AsSpan(_pendingFilled));
                    _pendingFilled += take;
                    buffer = buffer.Slice(take);
                }
                if (_pendingFilled == _pendingLength)
                {
                    reader.AdvanceTo(buffer.Start);
                    _hasPending = false;
                    var message = new FrontendMessage(_pendingType, _pendingBody, _pendingLength);
                    _pendingBody = null;
                    return message;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
            else
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
            if (result.IsCompleted)
            {
                ReleasePending();
                return null;
            }
        }
    }

    /// <summary>
    /// Whether the next message has already arrived and is a Sync, without consuming anything: a client that pipelined
    /// Execute + Sync (every driver's autocommit statement) makes the statement a transaction of its own.
    /// </summary>
    public bool NextIsReceivedSync()
    {
        if (_hasPending || !reader.TryRead(out var result)) return false;
        var buffer = result.Buffer;
        var isSync = buffer.Length >= 5 && buffer.FirstSpan[0] == (byte)'S' && ReadInt32(buffer.Slice(1)) == 4;
        reader.AdvanceTo(buffer.Start);
        return isSync;
    }

    /// <summary>Returns a half-read body to the pool (connection closing).</summary>
    public void ReleasePending()
    {
        if (_pendingBody is not null)
        {
            ArrayPool<byte>.Shared.Return(_pendingBody);
            _pendingBody = null;
        }
        _hasPending = false;
    }

    private static int ReadInt32(ReadOnlySequence<byte> buffer)
    {
        Span<byte> four = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(four);
        return BinaryPrimitives.ReadInt32BigEndian(four);
    }
}
