using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Types;

/// <summary>
/// Decodes Bind parameter values (text or binary format) by their PostgreSQL type into the CLR values
/// documented on <see cref="PgType"/>. Bad values are 22P02 (text) or 22P03 (binary) errors.
/// </summary>
internal static class ParameterDecoder
{
    public static object? Decode(PgType? type, bool binary, ReadOnlySpan<byte> value, TimeZoneInfo zone)
    {
        if (type is null || type.Oid == PgType.Unknown.Oid)
        {
            if (binary)
            {
                throw new PostgresErrorException(SqlState.InvalidBinaryRepresentation,
                    "a parameter of unspecified type cannot be sent in binary format");
            }
            return PgBodyReader.DecodeUtf8(value);
        }
        if (type.Element is { } element)
        {
            return binary ? DecodeBinaryArray(element, value) : DecodeTextArray(element, value, zone);
        }
        return binary ? DecodeBinary(type, value) : DecodeText(type, value, zone);
    }

    private static object DecodeText(PgType type, ReadOnlySpan<byte> value, TimeZoneInfo zone)
    {
        switch (type.Oid)
        {
            case 16:
                return PgTextValues.TryParseBool(value, out var b) ? b : throw BadText(type, value);
            case 21:
                return PgTextValues.TryParseInt64(value, out var s) ? s is >= short.MinValue and <= short.MaxValue ? (short)s : throw OutOfRange(type) : throw BadText(type, value);
            case 23:
                return PgTextValues.TryParseInt64(value, out var i) ? i is >= int.MinValue and <= int.MaxValue ? (int)i : throw OutOfRange(type) : throw BadText(type, value);
            case 20:
                return PgTextValues.TryParseInt64(value, out var l) ? l : throw BadText(type, value);
            case 26:
                return PgTextValues.TryParseInt64(value, out var o) && o is >= 0 and <= uint.MaxValue ? (uint)o : throw BadText(type, value);
            case 700:
                return PgTextValues.TryParseDouble(value, out var f) ? (float)f : throw BadText(type, value);
            case 701:
                return PgTextValues.TryParseDouble(value, out var d) ? d : throw BadText(type, value);
            case 1700:
            {
                if (!PgNumeric.TryParseText(value, out var unscaled, out var scale))
                {
                    throw BadText(type, value);
                }
                return PgNumeric.ToDecimal(unscaled, scale) ?? throw OutOfRange(type);
            }
            case 17:
            {
                var writer = new ArrayBufferWriter<byte>(Math.Max(1, value.Length / 2));
                return PgTextValues.TryParseBytea(value, writer) ? writer.WrittenSpan.ToArray() : throw BadText(type, value);
            }
            case 1114:
            case 1184:
            {
                var tz = type.Oid == 1184;
                if (!PgDateTimeParser.TryParseTimestamp(value, tz, zone, out var micros))
                {
                    throw BadText(type, value, SqlState.InvalidDatetimeFormat);
                }
                return ToDateTime(micros, tz);
            }
            case 1082:
                return PgDateTimeParser.TryParseDate(value, out var days) ? ToDateOnly(days) : throw BadText(type, value, SqlState.InvalidDatetimeFormat);
            case 1083:
                return PgDateTimeParser.TryParseTime(value, out var t) ? ToTimeOnly(t) : throw BadText(type, value, SqlState.InvalidDatetimeFormat);
            case 1186:
                return PgTextValues.TryParseInterval(value, out var months, out var idays, out var imicros)
                    ? ToTimeSpan(months, idays, imicros) : throw BadText(type, value, SqlState.InvalidDatetimeFormat);
            case 2950:
            {
                Span<byte> rfc = stackalloc byte[16];
                return PgTextValues.TryParseUuid(value, rfc) ? new Guid(rfc, bigEndian: true) : throw BadText(type, value);
            }
            default:
                // text, varchar, bpchar, name, char, json, jsonb and anything else: the text itself.
                return PgBodyReader.DecodeUtf8(value);
        }
    }

    private static object DecodeBinary(PgType type, ReadOnlySpan<byte> value)
    {
        switch (type.Oid)
        {
            case 16:
                return Exact(type, value, 1)[0] != 0;
            case 21:
                return BinaryPrimitives.ReadInt16BigEndian(Exact(type, value, 2));
            case 23:
                return BinaryPrimitives.ReadInt32BigEndian(Exact(type, value, 4));
            case 20:
                return BinaryPrimitives.ReadInt64BigEndian(Exact(type, value, 8));
            case 26:
                return BinaryPrimitives.ReadUInt32BigEndian(Exact(type, value, 4));
            case 700:
                return BinaryPrimitives.ReadSingleBigEndian(Exact(type, value, 4));
            case 701:
                return BinaryPrimitives.ReadDoubleBigEndian(Exact(type, value, 8));
            case 1700:
            {
                if (!PgNumeric.TryDecodeBinary(value, out var unscaled, out var scale, out var special))
                {
                    throw new PostgresErrorException(SqlState.FeatureNotSupported, $"numeric {special} is not supported as a parameter");
                }
                return PgNumeric.ToDecimal(unscaled, scale) ?? throw OutOfRange(type);
            }
            case 17:
                return value.ToArray();
            case 1114:
                return ToDateTime(PgDateTime.FromPgMicros(BinaryPrimitives.ReadInt64BigEndian(Exact(type, value, 8))), false);
            case 1184:
                return ToDateTime(PgDateTime.FromPgMicros(BinaryPrimitives.ReadInt64BigEndian(Exact(type, value, 8))), true);
            case 1082:
                return ToDateOnly(PgDateTime.FromPgDays(BinaryPrimitives.ReadInt32BigEndian(Exact(type, value, 4))));
            case 1083:
                return ToTimeOnly(BinaryPrimitives.ReadInt64BigEndian(Exact(type, value, 8)));
            case 1186:
            {
                var v = Exact(type, value, 16);
                return ToTimeSpan(BinaryPrimitives.ReadInt32BigEndian(v[12..]), BinaryPrimitives.ReadInt32BigEndian(v[8..]), BinaryPrimitives.ReadInt64BigEndian(v));
            }
            case 2950:
                return new Guid(Exact(type, value, 16), bigEndian: true);
            case 3802:
                if (value.IsEmpty || value[0] != 1)
                {
                    throw new PostgresErrorException(SqlState.InvalidBinaryRepresentation, "unsupported jsonb version number");
                }
                return PgBodyReader.DecodeUtf8(value[1..]);
            case 25 or 1043 or 1042 or 19 or 18 or 114 or 705:
                return PgBodyReader.DecodeUtf8(value);
            default:
                throw new PostgresErrorException(SqlState.FeatureNotSupported, $"binary format for parameters of type {type.Name} is not supported");
        }
    }

    private static Array DecodeTextArray(PgType element, ReadOnlySpan<byte> value, TimeZoneInfo zone)
    {
        var values = new List<object?>();
        PgArrayText.Parse(value, e => values.Add(e is null ? null : DecodeText(element, e, zone)));
        return ToTypedArray(element, values);
    }

    private static Array DecodeBinaryArray(PgType element, ReadOnlySpan<byte> value)
    {
        var reader = new PgBodyReader(value);
        var dims = reader.ReadInt32();
        var flags = reader.ReadInt32();
        var elementOid = (uint)reader.ReadInt32();
        if (dims > 1)
        {
            throw new PostgresErrorException(SqlState.FeatureNotSupported, "multi-dimensional arrays are not supported");
        }
        if (dims < 0 || (flags & ~1) != 0)
        {
            throw new PostgresErrorException(SqlState.InvalidBinaryRepresentation, "invalid array header");
        }
        var actualElement = elementOid == element.Oid ? element : PgType.FromOid(elementOid)
            ?? throw new PostgresErrorException(SqlState.InvalidBinaryRepresentation, $"unknown array element type {elementOid}");
        var values = new List<object?>();
        if (dims == 1)
        {
            var count = reader.ReadInt32();
            reader.ReadInt32(); // lower bound
            if (count < 0 || count > reader.Remaining / 4)
            {
                throw new PostgresErrorException(SqlState.InvalidBinaryRepresentation, "invalid array length");
            }
            for (var i = 0; i < count; i++)
            {
                var length = reader.ReadInt32();
                values.Add(length < 0 ? null : DecodeBinary(actualElement, reader.ReadBytes(length)));
            }
        }
        reader.ExpectEnd();
        return ToTypedArray(element, values);
    }

    private static Array ToTypedArray(PgType element, List<object?> values) => element.Oid switch
    {
        16 => values.Select(v => (bool?)v).ToArray(),
        21 => values.Select(v => v is null ? (short?)null : Convert.ToInt16(v)).ToArray(),
        23 => values.Select(v => v is null ? (int?)null : Convert.ToInt32(v)).ToArray(),
        20 => values.Select(v => v is null ? (long?)null : Convert.ToInt64(v)).ToArray(),
        700 => values.Select(v => v is null ? (float?)null : Convert.ToSingle(v)).ToArray(),
        701 => values.Select(v => v is null ? (double?)null : Convert.ToDouble(v)).ToArray(),
        1700 => values.Select(v => (decimal?)v).ToArray(),
        17 => values.Select(v => (byte[]?)v).ToArray(),
        1114 or 1184 => values.Select(v => (DateTime?)v).ToArray(),
        1082 => values.Select(v => (DateOnly?)v).ToArray(),
        1083 => values.Select(v => (TimeOnly?)v).ToArray(),
        1186 => values.Select(v => (TimeSpan?)v).ToArray(),
        2950 => values.Select(v => (Guid?)v).ToArray(),
        26 => values.Select(v => (uint?)v).ToArray(),
        _ => values.Select(v => (string?)v).ToArray(),
    };

    internal static DateTime ToDateTime(long unixMicros, bool utc)
    {
        var kind = utc ? DateTimeKind.Utc : DateTimeKind.Unspecified;
        if (unixMicros == long.MaxValue)
        {
            return DateTime.SpecifyKind(DateTime.MaxValue, kind);
        }
        if (unixMicros == long.MinValue)
        {
            return DateTime.SpecifyKind(DateTime.MinValue, kind);
        }
        var ticks = (Int128)unixMicros * 10 + DateTime.UnixEpoch.Ticks;
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            throw new PostgresErrorException(SqlState.DatetimeFieldOverflow, "timestamp out of range");
        }
        return new DateTime((long)ticks, kind);
    }

    private static DateOnly ToDateOnly(int unixDays)
    {
        if (unixDays == int.MaxValue)
        {
            return DateOnly.MaxValue;
        }
        if (unixDays == int.MinValue)
        {
            return DateOnly.MinValue;
        }
        var dayNumber = (long)unixDays + DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
        if (dayNumber < DateOnly.MinValue.DayNumber || dayNumber > DateOnly.MaxValue.DayNumber)
        {
            throw new PostgresErrorException(SqlState.DatetimeFieldOverflow, "date out of range");
        }
        return DateOnly.FromDayNumber((int)dayNumber);
    }

    private static TimeOnly ToTimeOnly(long micros)
    {
        if (micros < 0 || micros > PgDateTime.MicrosPerDay)
        {
            throw new PostgresErrorException(SqlState.DatetimeFieldOverflow, "time out of range");
        }
        return micros == PgDateTime.MicrosPerDay ? TimeOnly.MaxValue : new TimeOnly(micros * 10);
    }

    private static TimeSpan ToTimeSpan(long months, long days, long micros)
    {
        if (months != 0)
        {
            throw new PostgresErrorException(SqlState.FeatureNotSupported, "intervals with months or years are not supported as parameters");
        }
        try
        {
            return TimeSpan.FromTicks(checked((days * PgDateTime.MicrosPerDay + micros) * 10));
        }
        catch (OverflowException)
        {
            throw new PostgresErrorException(SqlState.DatetimeFieldOverflow, "interval out of range");
        }
    }

    private static ReadOnlySpan<byte> Exact(PgType type, ReadOnlySpan<byte> value, int length) =>
        value.Length == length ? value : throw new PostgresErrorException(SqlState.InvalidBinaryRepresentation,
            $"incorrect binary data format: {type.Name} needs {length} bytes, got {value.Length}");

    private static PostgresErrorException BadText(PgType type, ReadOnlySpan<byte> value, string sqlState = SqlState.InvalidTextRepresentation)
    {
        var shown = Encoding.UTF8.GetString(value[..Math.Min(value.Length, 100)]);
        return new PostgresErrorException(sqlState, $"invalid input syntax for type {type.Name}: \"{shown}\"");
    }

    private static PostgresErrorException OutOfRange(PgType type) =>
        new(SqlState.NumericValueOutOfRange, $"value out of range for type {type.Name}");
}
