using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Wire;

/// <summary>
/// A growable, pooled buffer backend messages are built in (lengths are patched in place once a message
/// is complete), written to the socket in one piece when it passes the flush threshold or at a sync point.
/// </summary>
internal sealed class PgOutputBuffer : IBufferWriter<byte>, IDisposable
{
    private const int InitialSize = 8 * 1024;
    // After a big result the buffer shrinks back, so idle connections hold little memory.
    private const int KeepSize = 256 * 1024;

    private byte[] _buffer;
    private int _length;
    private int _messageStart = -1;

    public PgOutputBuffer()
    {
        _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
    }

    /// <summary>Bytes waiting to be written.</summary>
    public int Length => _length;

    /// <summary>The bytes waiting to be written.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    /// <summary>The bytes waiting to be written.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>Starts a message: type byte and a length placeholder.</summary>
    public void StartMessage(byte type)
    {
        if (_messageStart >= 0)
        {
            throw new InvalidOperationException("a message is already being written");
        }
        WriteByte(type);
        _messageStart = _length;
        WriteInt32(0);
    }

    /// <summary>Ends the current message: patches its length.</summary>
    public void EndMessage()
    {
        if (_messageStart < 0)
        {
            throw new InvalidOperationException("no message is being written");
        }
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_messageStart), _length - _messageStart);
        _messageStart = -1;
    }

    /// <summary>Drops a message that was started but must not be sent (e.g. a row that failed to encode).</summary>
    public void AbandonMessage()
    {
        if (_messageStart >= 0)
        {
            _length = _messageStart - 1;
            _messageStart = -1;
        }
    }

    /// <summary>Writes a whole message with an empty body.</summary>
    public void WriteEmptyMessage(byte type)
    {
        StartMessage(type);
        EndMessage();
    }

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_length++] = value;
    }

    public void WriteInt16(short value)
    {
        Ensure(2);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_length), value);
        _length += 2;
    }

    public void WriteInt32(int value)
    {
        Ensure(4);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    public void WriteInt64(long value)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt64BigEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>Writes a string as UTF-8 without a terminator.</summary>
    public void WriteUtf8(string value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        Ensure(max);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
    }

    /// <summary>Writes a NUL-terminated UTF-8 string (NUL characters inside are dropped: they cannot be sent).</summary>
    public void WriteCString(string value)
    {
        var start = _length;
        WriteUtf8(value);
        var written = _buffer.AsSpan(start, _length - start);
        if (written.Contains((byte)0))
        {
            var kept = 0;
            foreach (var b in written)
            {
                if (b != 0)
                {
                    written[kept++] = b;
                }
            }
            _length = start + kept;
        }
        WriteByte(0);
    }

    /// <summary>Reserves four bytes for a length written later with <see cref="PatchLength"/>; returns their position.</summary>
    public int ReserveInt32()
    {
        Ensure(4);
        var position = _length;
        _length += 4;
        return position;
    }

    /// <summary>Writes at <paramref name="position"/> the number of bytes written after the reserved four bytes.</summary>
    public void PatchLength(int position) =>
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(position), _length - position - 4);

    /// <summary>Bytes written since <paramref name="position"/> (exclusive of the reserved length itself).</summary>
    public Span<byte> WrittenSince(int position) => _buffer.AsSpan(position, _length - position);

    /// <summary>Shortens the written bytes to <paramref name="length"/> (undo).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > _length)
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }
        _length = length;
    }

    public void Advance(int count)
    {
        if (count < 0 || _length + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 16));
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 16));
        return _buffer.AsSpan(_length);
    }

    /// <summary>Writes everything buffered to <paramref name="stream"/> and empties the buffer.</summary>
    public async ValueTask FlushToAsync(Stream stream, CancellationToken cancellationToken)
    {
        if (_messageStart >= 0)
        {
            throw new InvalidOperationException("cannot flush in the middle of a message");
        }
        if (_length > 0)
        {
            await stream.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            _length = 0;
        }
        if (_buffer.Length > KeepSize)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
        }
    }

    /// <summary>Drops everything buffered (the connection is going away).</summary>
    public void Clear()
    {
        _length = 0;
        _messageStart = -1;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int count)
    {
        if (_buffer.Length - _length >= count)
        {
            return;
        }
        var needed = (long)_length + count;
        if (needed > Array.MaxLength)
        {
            throw new PostgresErrorException(SqlState.ProgramLimitExceeded, "result message too large");
        }
        var size = (int)Math.Min(Array.MaxLength, Math.Max(needed, (long)_buffer.Length * 2));
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
