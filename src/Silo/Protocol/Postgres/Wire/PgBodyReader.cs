using System.Buffers.Binary;
using System.Text;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Wire;

/// <summary>
/// Bounds-checked reads from a message body. Any read past the end, or a string without its terminator,
/// throws a <see cref="PostgresErrorException"/> (08P01): the framing was fine, so the connection survives.
/// </summary>
internal ref struct PgBodyReader(ReadOnlySpan<byte> body)
{
    private readonly ReadOnlySpan<byte> _body = body;
    private int _position;

    public readonly int Remaining => _body.Length - _position;

    public byte ReadByte()
    {
        Need(1);
        return _body[_position++];
    }

    public short ReadInt16()
    {
        Need(2);
        var v = BinaryPrimitives.ReadInt16BigEndian(_body[_position..]);
        _position += 2;
        return v;
    }

    public int ReadInt32()
    {
        Need(4);
        var v = BinaryPrimitives.ReadInt32BigEndian(_body[_position..]);
        _position += 4;
        return v;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0)
        {
            throw Malformed($"negative length {count}");
        }
        Need(count);
        var s = _body.Slice(_position, count);
        _position += count;
        return s;
    }

    public ReadOnlySpan<byte> ReadCStringBytes()
    {
        var end = _body[_position..].IndexOf((byte)0);
        if (end < 0)
        {
            throw Malformed("string without terminator");
        }
        var s = _body.Slice(_position, end);
        _position += end + 1;
        return s;
    }

    public string ReadCString() => DecodeUtf8(ReadCStringBytes());

    public readonly void ExpectEnd()
    {
        if (_position != _body.Length)
        {
            throw Malformed($"{_body.Length - _position} unexpected bytes at the end of the message");
        }
    }

    public static string DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return Utf8Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new PostgresErrorException(SqlState.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"");
        }
    }

    private static readonly UTF8Encoding Utf8Strict = new(false, true);

    private readonly void Need(int count)
    {
        if (count > _body.Length - _position)
        {
            throw Malformed("insufficient data left in message");
        }
    }

    private static PostgresErrorException Malformed(string what) => new(SqlState.ProtocolViolation, what);
}
