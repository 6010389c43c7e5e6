using System.Collections;
using System.Text.Unicode;
using TimeFusion.Silo.Protocol.Postgres.Types;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>
/// The parameter values of one Bind, decoded as <see cref="IPostgresSession.ExecuteAsync"/> documents — except that
/// text values (<c>text</c>, <c>varchar</c>, <c>json</c>) stay UTF-8 bytes until something reads them as CLR values:
/// a backend that builds Arrow columns from them (a planned INSERT) takes the bytes as they came off the wire
/// (<see cref="TryGetUtf8"/>), with no UTF-16 string made and encoded back. Every value is checked at Bind as before
/// (invalid UTF-8 is 22021 there), so errors come when and as they did.
/// </summary>
internal sealed class BoundParameters : IReadOnlyList<object?>
{
    private readonly object?[] _values;
    // Text values not yet made strings: their bytes in _text (start, length); length -1 for every other value.
    private readonly (int Start, int Length)[] _raw;
    private readonly byte[] _text;

    private BoundParameters(object?[] values, (int, int)[] raw, byte[] text)
    {
        _values = values;
        _raw = raw;
        _text = text;
    }

    /// <summary>No parameters.</summary>
    public static BoundParameters Empty { get; } = new([], [], []);

    /// <inheritdoc />
    public int Count => _values.Length;

    /// <inheritdoc />
    public object? this[int index]
    {
        get
        {
            var (start, length) = _raw[index];
            if (length < 0) return _values[index];
            // First read as a CLR value: the string is made once (the bytes were checked at Bind).
            var s = PgBodyReader.DecodeUtf8(_text.AsSpan(start, length));
            _values[index] = s;
            _raw[index] = (0, -1);
            return s;
        }
    }

    /// <summary>The UTF-8 bytes of a text value that has not been read as a string; false for any other value (then use the indexer).</summary>
    public bool TryGetUtf8(int index, out ReadOnlySpan<byte> utf8)
    {
        var (start, length) = _raw[index];
        utf8 = length < 0 ? default : _text.AsSpan(start, length);
        return length >= 0;
    }

    /// <inheritdoc />
    public IEnumerator<object?> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Whether parameter <paramref name="index"/> is in binary format by Bind's format codes (none, one for all, or one each).</summary>
    internal static bool IsBinary(ReadOnlySpan<short> formats, int index) =>
        formats.Length == 1 ? formats[0] == 1 : formats.Length > 0 && formats[index] == 1;

    /// <summary>Whether values of <paramref name="type"/> in this format are the UTF-8 text itself (kept as bytes).</summary>
    private static bool IsPlainText(PgType? type) => type?.Oid is 25 or 1043 or 114;

    /// <summary>
    /// Decodes Bind's values: <paramref name="values"/> are (offset, length) in <paramref name="body"/> (length -1 =
    /// NULL), <paramref name="formats"/> Bind's parameter format codes (none: all text, one: all alike, else one per
    /// value; 1 = binary), <paramref name="types"/> each one's declared type (see <see cref="Connection.PreparedStatement.ParameterTypes"/>).
    /// </summary>
    /// <exception cref="PostgresErrorException">A value its type refuses (22P02, 22P03, 22021, …; Where names the parameter).</exception>
    internal static BoundParameters Decode(ReadOnlySpan<byte> body, ReadOnlySpan<(int Offset, int Length)> values, ReadOnlySpan<short> formats,
        ReadOnlySpan<PgType?> types, TimeZoneInfo zone)
    {
        if (values.Length == 0) return Empty;
        var decoded = new object?[values.Length];
        var raw = new (int, int)[values.Length];
        var textBytes = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].Length > 0 && IsPlainText(types[i])) textBytes += values[i].Length;
        }
        var text = textBytes == 0 ? [] : new byte[textBytes];
        var at = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var (offset, length) = values[i];
            raw[i] = (0, -1);
            if (length < 0) continue;
            var value = body.Slice(offset, length);
            var type = types[i];
            try
            {
                if (IsPlainText(type))
                {
                    // As ParameterDecoder does for these types in either format: the text itself, valid UTF-8.
                    if (!Utf8.IsValid(value))
                        throw new PostgresErrorException(SqlState.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"");
                    value.CopyTo(text.AsSpan(at));
                    raw[i] = (at, length);
                    at += length;
                }
                else
                {
                    decoded[i] = ParameterDecoder.Decode(type, IsBinary(formats, i), value, zone);
                }
            }
            catch (PostgresErrorException e)
            {
                throw new PostgresErrorException(e.SqlState, e.Message) { Detail = e.Detail, Where = $"parameter ${i + 1}" };
            }
        }
        return new BoundParameters(decoded, raw, text);
    }
}
