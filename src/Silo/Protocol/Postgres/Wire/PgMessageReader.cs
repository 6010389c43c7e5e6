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

    // Bytes of the current CopyData body not yet handed to the sink (FeedCopyDataAsync).
    private long _copyBodyLeft;

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
            if (_copyBodyLeft > 0)
            {
                // The rest of a CopyData body whose COPY failed while it streamed: dropped, as the whole message would be.
                var skip = Math.Min(buffer.Length, _copyBodyLeft);
                buffer = buffer.Slice(skip);
                _copyBodyLeft -= skip;
                if (_copyBodyLeft > 0)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted)
                    {
                        return null;
                    }
                    continue;
                }
            }
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
    /// Hands the bodies of consecutive CopyData messages to <paramref name="sink"/> straight from the pipe's buffers
    /// (no copy into a message buffer, a body arriving over several reads is passed on piece by piece, so memory stays
    /// at the pipe's size whatever the message size). Returns true after a read's worth was fed (the caller may then
    /// do async work, e.g. hand on parsed rows, and call again), false when the next message is of another type, or
    /// the stream ended: read that with <see cref="ReadAsync"/>, which also reports the end of the stream.
    /// </summary>
    public async ValueTask<bool> FeedCopyDataAsync(ICopyDataSink sink, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var fed = false;
            try
            {
                while (true)
                {
                    if (_copyBodyLeft > 0)
                    {
                        var take = (int)Math.Min(buffer.Length, _copyBodyLeft);
                        if (take == 0)
                        {
                            break;
                        }
                        foreach (var segment in buffer.Slice(0, take))
                        {
                            sink.Feed(segment.Span);
                        }
                        buffer = buffer.Slice(take);
                        _copyBodyLeft -= take;
                        fed = true;
                        continue;
                    }
                    if (buffer.Length < 5 || buffer.FirstSpan[0] != (byte)'d')
                    {
                        if (buffer.Length > 0 && buffer.FirstSpan[0] != (byte)'d')
                        {
                            reader.AdvanceTo(buffer.Start);
                            return fed;
                        }
                        break;
                    }
                    var length = ReadInt32(buffer.Slice(1));
                    if (length < 4 || length - 4 > MaxMessageBytes)
                    {
                        // Let ReadAsync refuse it with its usual error.
                        reader.AdvanceTo(buffer.Start);
                        return fed;
                    }
                    _copyBodyLeft = length - 4;
                    buffer = buffer.Slice(5);
                }
            }
            catch
            {
                reader.AdvanceTo(buffer.Start);
                throw;
            }
            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start);
                return false;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (fed)
            {
                return true;
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
