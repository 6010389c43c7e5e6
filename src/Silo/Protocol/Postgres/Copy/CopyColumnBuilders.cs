using System.Buffers.Binary;
using System.Numerics;
using System.Text.Json;
using System.Text.Unicode;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Silo.Protocol.Postgres.Types;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Copy;

/// <summary>Creates the COPY column builder for a target Arrow field.</summary>
internal static class CopyColumnBuilders
{
    public static CopyColumnBuilder Create(Field field, TimeZoneInfo zone)
    {
        if (PgArrowMetadata.IsUuid(field))
        {
            return new UuidColumnBuilder(field);
        }
        if (PgArrowMetadata.IsBool8(field))
        {
            return new Bool8ColumnBuilder(field);
        }
        var type = field.DataType is ExtensionType ext ? ext.StorageType : field.DataType;
        return type switch
        {
            BooleanType => new BoolColumnBuilder(field),
            Int8Type => new IntegerColumnBuilder<sbyte>(field, type, "smallint"),
            Int16Type => new IntegerColumnBuilder<short>(field, type, "smallint"),
            Int32Type => new IntegerColumnBuilder<int>(field, type, "integer"),
            Int64Type => new IntegerColumnBuilder<long>(field, type, "bigint"),
            UInt8Type => new IntegerColumnBuilder<byte>(field, type, "smallint"),
            UInt16Type => new IntegerColumnBuilder<ushort>(field, type, "integer"),
            UInt32Type => new IntegerColumnBuilder<uint>(field, type, "bigint"),
            UInt64Type => new IntegerColumnBuilder<ulong>(field, type, "numeric"),
            FloatType => new FloatColumnBuilder<float>(field, type),
            DoubleType => new FloatColumnBuilder<double>(field, type),
            Decimal128Type d => new Decimal128ColumnBuilder(field, d),
            StringType => new Utf8ColumnBuilder(field, type, PgArrowMetadata.IsJson(field)),
            BinaryType => new BinaryColumnBuilder(field, type),
            Date32Type => new DateColumnBuilder(field, type),
            TimestampType ts => new TimestampColumnBuilder(field, ts, zone),
            Time64Type t => new TimeColumnBuilder<long>(field, t, t.Unit),
            Time32Type t => new TimeColumnBuilder<int>(field, t, t.Unit),
            DurationType d => new DurationColumnBuilder(field, d),
            ListType l => new ListColumnBuilder(field, l, Create(l.ValueField, zone)),
            _ => throw new PostgresErrorException(SqlState.FeatureNotSupported,
                $"COPY into column \"{field.Name}\" of Arrow type {type.Name} is not supported"),
        };
    }

    internal static long FromMicros(long micros, TimeUnit unit, string typeName)
    {
        if (micros == long.MaxValue || micros == long.MinValue)
        {
            return micros;
        }
        try
        {
            return unit switch
            {
                TimeUnit.Second => PgDateTime.FloorDiv(micros, PgDateTime.MicrosPerSecond),
                TimeUnit.Millisecond => PgDateTime.FloorDiv(micros, 1000),
                TimeUnit.Microsecond => micros,
                _ => checked(micros * 1000),
            };
        }
        catch (OverflowException)
        {
            throw new PostgresErrorException(SqlState.DatetimeFieldOverflow, $"{typeName} out of range");
        }
    }
}

internal abstract class FixedWidthColumnBuilder<T>(Field field, IArrowType storageType) : CopyColumnBuilder(field, storageType)
    where T : unmanaged
{
    private CopyValueBuffer<T> _values = new(8);

    protected void Add(T value) => _values.Append(value);

    public override void Reserve(int rows, int bytes) => _values = new CopyValueBuffer<T>(rows);

    protected override void AppendNullValue() => _values.Append(default(T));

    protected override (ArrowBuffer[] Buffers, ArrayData[] Children) BuildBuffers() => ([_values.Build()], []);
}

internal sealed class BoolColumnBuilder(Field field) : CopyColumnBuilder(field, BooleanType.Default)
{
    private ArrowBuffer.BitmapBuilder _values = new();

    protected override void AppendNullValue() => _values.Append(false);

    protected override void AppendTextValue(ReadOnlySpan<byte> text) =>
        _values.Append(PgTextValues.TryParseBool(text, out var v) ? v : throw BadText("boolean", text));

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value) =>
        _values.Append(value.Length == 1 ? value[0] != 0 : throw BadBinary("boolean", value.Length));

    protected override (ArrowBuffer[] Buffers, ArrayData[] Children) BuildBuffers()
    {
        var values = ManagedArrowMemory.Build(_values);
        _values = new ArrowBuffer.BitmapBuilder(Math.Max(8, _values.Length));
        return ([values], []);
    }
}

internal sealed class Bool8ColumnBuilder(Field field) : FixedWidthColumnBuilder<sbyte>(field, Int8Type.Default)
{
    protected override void AppendTextValue(ReadOnlySpan<byte> text) =>
        Add(PgTextValues.TryParseBool(text, out var v) ? (sbyte)(v ? 1 : 0) : throw BadText("boolean", text));

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value) =>
        Add(value.Length == 1 ? (sbyte)(value[0] != 0 ? 1 : 0) : throw BadBinary("boolean", value.Length));
}

internal sealed class IntegerColumnBuilder<T>(Field field, IArrowType type, string typeName) : FixedWidthColumnBuilder<T>(field, type)
    where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
{
    protected override void AppendTextValue(ReadOnlySpan<byte> text)
    {
        if (typeof(T) == typeof(ulong))
        {
            if (!PgNumeric.TryParseText(text, out var big, out var scale) || scale != 0)
            {
                throw BadText(typeName, text);
            }
            Add(big >= 0 && big <= ulong.MaxValue ? T.CreateTruncating((ulong)big) : throw OutOfRange(typeName));
            return;
        }
        if (!PgTextValues.TryParseInt64(text, out var v))
        {
            throw BadText(typeName, text);
        }
        Add(Narrow(v));
    }

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value)
    {
        // Accept any PostgreSQL integer width: clients often send int4 for an int8 column and the like.
        long v = value.Length switch
        {
            2 => BinaryPrimitives.ReadInt16BigEndian(value),
            4 => BinaryPrimitives.ReadInt32BigEndian(value),
            8 => BinaryPrimitives.ReadInt64BigEndian(value),
            _ when typeof(T) == typeof(ulong) => NumericToLong(value),
            _ => throw BadBinary(typeName, value.Length),
        };
        Add(Narrow(v));
    }

    private long NumericToLong(ReadOnlySpan<byte> value)
    {
        if (!PgNumeric.TryDecodeBinary(value, out var unscaled, out var scale, out _) || scale != 0 || unscaled < 0 || unscaled > ulong.MaxValue)
        {
            throw OutOfRange(typeName);
        }
        return unchecked((long)(ulong)unscaled);
    }

    private T Narrow(long v)
    {
        if (typeof(T) == typeof(ulong))
        {
            return T.CreateTruncating(v);
        }
        if (v < long.CreateTruncating(T.MinValue) || (typeof(T) != typeof(long) && v > long.CreateTruncating(T.MaxValue)))
        {
            throw OutOfRange(typeName);
        }
        return T.CreateTruncating(v);
    }
}

internal sealed class FloatColumnBuilder<T>(Field field, IArrowType type) : FixedWidthColumnBuilder<T>(field, type)
    where T : unmanaged, IFloatingPoint<T>
{
    private static string TypeName => typeof(T) == typeof(float) ? "real" : "double precision";

    protected override void AppendTextValue(ReadOnlySpan<byte> text) =>
        Add(PgTextValues.TryParseDouble(text, out var d) ? T.CreateSaturating(d) : throw BadText(TypeName, text));

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value)
    {
        double d = value.Length switch
        {
            4 => BinaryPrimitives.ReadSingleBigEndian(value),
            8 => BinaryPrimitives.ReadDoubleBigEndian(value),
            _ => throw BadBinary(TypeName, value.Length),
        };
        Add(T.CreateSaturating(d));
    }
}

internal sealed class Decimal128ColumnBuilder(Field field, Decimal128Type type) : FixedWidthColumnBuilder<Int128>(field, type)
{
    private static readonly BigInteger Max = BigInteger.Pow(10, 38) - 1;

    protected override void AppendTextValue(ReadOnlySpan<byte> text)
    {
        if (!PgNumeric.TryParseText(text, out var unscaled, out var scale))
        {
            throw BadText("numeric", text);
        }
        Add(Fit(unscaled, scale));
    }

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value)
    {
        if (!PgNumeric.TryDecodeBinary(value, out var unscaled, out var scale, out var special))
        {
            throw new PostgresErrorException(SqlState.FeatureNotSupported, $"numeric {special} cannot be stored in column \"{Field.Name}\"");
        }
        Add(Fit(unscaled, scale));
    }

    private Int128 Fit(BigInteger unscaled, int scale)
    {
        var rescaled = PgNumeric.Rescale(unscaled, scale, type.Scale);
        var limit = type.Precision >= 38 ? Max : BigInteger.Pow(10, type.Precision) - 1;
        if (BigInteger.Abs(rescaled) > limit)
        {
            throw new PostgresErrorException(SqlState.NumericValueOutOfRange, $"numeric field overflow in column \"{Field.Name}\"");
        }
        return (Int128)rescaled;
    }
}

internal sealed class DateColumnBuilder(Field field, IArrowType type) : FixedWidthColumnBuilder<int>(field, type)
{
    protected override void AppendTextValue(ReadOnlySpan<byte> text) =>
        Add(PgDateTimeParser.TryParseDate(text, out var days) ? days : throw BadText("date", text));

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value) =>
        Add(value.Length == 4 ? PgDateTime.FromPgDays(BinaryPrimitives.ReadInt32BigEndian(value)) : throw BadBinary("date", value.Length));
}

internal sealed class TimestampColumnBuilder(Field field, TimestampType type, TimeZoneInfo zone) : FixedWidthColumnBuilder<long>(field, type)
{
    private readonly bool _withZone = !string.IsNullOrEmpty(type.Timezone);

    private string TypeName => _withZone ? "timestamp with time zone" : "timestamp without time zone";

    protected override void AppendTextValue(ReadOnlySpan<byte> text)
    {
        if (!PgDateTimeParser.TryParseTimestamp(text, _withZone, zone, out var micros))
        {
            throw BadText(TypeName, text);
        }
        Add(CopyColumnBuilders.FromMicros(micros, type.Unit, TypeName));
    }

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value)
    {
        if (value.Length != 8)
        {
            throw BadBinary(TypeName, value.Length);
        }
        long micros;
        try
        {
            micros = PgDateTime.FromPgMicros(BinaryPrimitives.ReadInt64BigEndian(value));
        }
        catch (OverflowException)
        {
            throw new PostgresErrorException(SqlState.DatetimeFieldOverflow, $"{TypeName} out of range");
        }
        Add(CopyColumnBuilders.FromMicros(micros, type.Unit, TypeName));
    }
}

internal sealed class TimeColumnBuilder<T>(Field field, IArrowType type, TimeUnit unit) : FixedWidthColumnBuilder<T>(field, type)
    where T : unmanaged, IBinaryInteger<T>
{
    protected override void AppendTextValue(ReadOnlySpan<byte> text) =>
        Add(PgDateTimeParser.TryParseTime(text, out var micros) ? T.CreateTruncating(CopyColumnBuilders.FromMicros(micros, unit, "time")) : throw BadText("time", text));

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value) =>
        Add(value.Length == 8 ? T.CreateTruncating(CopyColumnBuilders.FromMicros(BinaryPrimitives.ReadInt64BigEndian(value), unit, "time")) : throw BadBinary("time", value.Length));
}

internal sealed class DurationColumnBuilder(Field field, DurationType type) : FixedWidthColumnBuilder<long>(field, type)
{
    protected override void AppendTextValue(ReadOnlySpan<byte> text)
    {
        if (!PgTextValues.TryParseInterval(text, out var months, out var days, out var micros))
        {
            throw BadText("interval", text);
        }
        Add(Combine(months, days, micros));
    }

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value)
    {
        if (value.Length != 16)
        {
            throw BadBinary("interval", value.Length);
        }
        Add(Combine(BinaryPrimitives.ReadInt32BigEndian(value[12..]), BinaryPrimitives.ReadInt32BigEndian(value[8..]), BinaryPrimitives.ReadInt64BigEndian(value)));
    }

    private long Combine(long months, long days, long micros)
    {
        if (months != 0)
        {
            throw new PostgresErrorException(SqlState.FeatureNotSupported, $"column \"{Field.Name}\" is a duration: intervals with months are not supported");
        }
        try
        {
            return CopyColumnBuilders.FromMicros(checked(days * PgDateTime.MicrosPerDay + micros), type.Unit, "interval");
        }
        catch (OverflowException)
        {
            throw new PostgresErrorException(SqlState.DatetimeFieldOverflow, "interval out of range");
        }
    }
}

internal sealed class UuidColumnBuilder(Field field) : CopyColumnBuilder(field, new FixedSizeBinaryType(16))
{
    private ArrowBuffer.Builder<byte> _values = new();

    protected override void AppendNullValue()
    {
        Span<byte> zero = stackalloc byte[16];
        _values.Append(zero);
    }

    protected override void AppendTextValue(ReadOnlySpan<byte> text)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!PgTextValues.TryParseUuid(text, bytes))
        {
            throw BadText("uuid", text);
        }
        _values.Append(bytes);
    }

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value) =>
        _values.Append(value.Length == 16 ? value : throw BadBinary("uuid", value.Length));

    protected override (ArrowBuffer[] Buffers, ArrayData[] Children) BuildBuffers()
    {
        var values = ManagedArrowMemory.Build(_values);
        _values = new ArrowBuffer.Builder<byte>();
        return ([values], []);
    }
}

/// <summary>utf8 (text, varchar, json) and binary (bytea) columns: offsets plus value bytes.</summary>
internal abstract class VariableColumnBuilder(Field field, IArrowType type) : CopyColumnBuilder(field, type)
{
    private CopyValueBuffer<int> _offsets = NewOffsets(8);
    private CopyValueBuffer<byte> _bytes = new(64);
    private int _size;

    /// <summary>Bytes held so far (for batch sizing).</summary>
    public override int ByteCount => _size;

    public override void Reserve(int rows, int bytes)
    {
        _offsets = NewOffsets(rows + 1);
        _bytes = new CopyValueBuffer<byte>(Math.Max(64, bytes));
    }

    private static CopyValueBuffer<int> NewOffsets(int capacity)
    {
        var offsets = new CopyValueBuffer<int>(capacity);
        offsets.Append(0);
        return offsets;
    }

    protected void AddBytes(ReadOnlySpan<byte> bytes)
    {
        if ((long)_size + bytes.Length > int.MaxValue)
        {
            throw new PostgresErrorException(SqlState.ProgramLimitExceeded, "COPY batch too large");
        }
        _bytes.Append(bytes);
        _size += bytes.Length;
        _offsets.Append(_size);
    }

    protected override void AppendNullValue() => _offsets.Append(_size);

    protected override (ArrowBuffer[] Buffers, ArrayData[] Children) BuildBuffers()
    {
        // Both start over at this batch's size (CopyValueBuffer.Build); the offsets' leading zero goes in again.
        var offsets = _offsets.Build();
        var bytes = _bytes.Build();
        _offsets.Append(0);
        _size = 0;
        return ([offsets, bytes], []);
    }
}

internal sealed class Utf8ColumnBuilder(Field field, IArrowType type, bool json) : VariableColumnBuilder(field, type)
{
    protected override void AppendTextValue(ReadOnlySpan<byte> text) => AppendTextValue(text, validUtf8: false);

    protected override void AppendTextValue(ReadOnlySpan<byte> text, bool validUtf8)
    {
        Validate(text, validUtf8);
        AddBytes(text);
    }

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value)
    {
        // jsonb's binary form is a version byte (1) and the text; a JSON text never starts with 0x01.
        if (json && value.Length > 0 && value[0] == 1)
        {
            value = value[1..];
        }
        Validate(value, validUtf8: false);
        AddBytes(value);
    }

    private void Validate(ReadOnlySpan<byte> text, bool validUtf8)
    {
        if (!validUtf8 && !Utf8.IsValid(text))
        {
            throw new PostgresErrorException(SqlState.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"");
        }
        if (json)
        {
            try
            {
                var reader = new Utf8JsonReader(text, new JsonReaderOptions { MaxDepth = 256 });
                while (reader.Read())
                {
                }
            }
            catch (JsonException e)
            {
                throw new PostgresErrorException(SqlState.InvalidTextRepresentation, "invalid input syntax for type json") { Detail = e.Message };
            }
        }
    }
}

internal sealed class BinaryColumnBuilder(Field field, IArrowType type) : VariableColumnBuilder(field, type)
{
    private readonly System.Buffers.ArrayBufferWriter<byte> _scratch = new();

    protected override void AppendTextValue(ReadOnlySpan<byte> text)
    {
        _scratch.ResetWrittenCount();
        if (!PgTextValues.TryParseBytea(text, _scratch))
        {
            throw BadText("bytea", text);
        }
        AddBytes(_scratch.WrittenSpan);
    }

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value) => AddBytes(value);
}

/// <summary>One-dimensional arrays into Arrow lists.</summary>
internal sealed class ListColumnBuilder(Field field, ListType type, CopyColumnBuilder element) : CopyColumnBuilder(field, type)
{
    private ArrowBuffer.Builder<int> _offsets = new ArrowBuffer.Builder<int>().Append(0);

    protected override void AppendNullValue() => _offsets.Append(element.Length);

    protected override void AppendTextValue(ReadOnlySpan<byte> text)
    {
        PgArrayText.Parse(text, e =>
        {
            if (e is null)
            {
                element.AppendNull();
            }
            else
            {
                element.AppendText(e);
            }
        });
        _offsets.Append(element.Length);
    }

    protected override void AppendBinaryValue(ReadOnlySpan<byte> value)
    {
        if (value.Length < 12)
        {
            throw BadBinary("array", value.Length);
        }
        var dims = BinaryPrimitives.ReadInt32BigEndian(value);
        if (dims > 1)
        {
            throw new PostgresErrorException(SqlState.FeatureNotSupported, "multi-dimensional arrays are not supported");
        }
        var pos = 12;
        if (dims == 1)
        {
            if (value.Length < 20)
            {
                throw BadBinary("array", value.Length);
            }
            var count = BinaryPrimitives.ReadInt32BigEndian(value[pos..]);
            pos += 8;
            if (count < 0)
            {
                throw BadBinary("array", value.Length);
            }
            for (var i = 0; i < count; i++)
            {
                if (value.Length - pos < 4)
                {
                    throw BadBinary("array", value.Length);
                }
                var length = BinaryPrimitives.ReadInt32BigEndian(value[pos..]);
                pos += 4;
                if (length < 0)
                {
                    element.AppendNull();
                    continue;
                }
                if (length > value.Length - pos)
                {
                    throw BadBinary("array", value.Length);
                }
                element.AppendBinary(value.Slice(pos, length));
                pos += length;
            }
        }
        if (pos != value.Length)
        {
            throw BadBinary("array", value.Length);
        }
        _offsets.Append(element.Length);
    }

    protected override (ArrowBuffer[] Buffers, ArrayData[] Children) BuildBuffers()
    {
        var offsets = ManagedArrowMemory.Build(_offsets);
        _offsets = new ArrowBuffer.Builder<int>().Append(0);
        return ([offsets], [element.BuildData()]);
    }
}
