using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Numerics;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Types;

/// <summary>Creates the encoder for an Arrow field (see <see cref="PgTypeMapping"/> for the type chosen).</summary>
internal static class ColumnEncoders
{
    public static ColumnEncoder Create(Field field, bool binary, TimeZoneInfo sessionZone)
    {
        var pgType = PgTypeMapping.ForField(field);
        var type = field.DataType is ExtensionType ext && pgType.Oid != PgType.Uuid.Oid ? ext.StorageType : field.DataType;
        if (pgType.Oid == PgType.Uuid.Oid)
        {
            return new UuidEncoder(binary);
        }
        if (PgArrowMetadata.IsBool8(field))
        {
            return new Bool8Encoder(binary);
        }
        if (PgArrowMetadata.IsHugeInt(field, out var unsigned))
        {
            return new NumericEncoder(binary, 0, unsigned);
        }
        return type switch
        {
            BooleanType => new BoolEncoder(binary),
            Int8Type => new IntegerEncoder<sbyte>(pgType, binary),
            UInt8Type => new IntegerEncoder<byte>(pgType, binary),
            Int16Type => new IntegerEncoder<short>(pgType, binary),
            UInt16Type => new IntegerEncoder<ushort>(pgType, binary),
            Int32Type => new IntegerEncoder<int>(pgType, binary),
            UInt32Type => new IntegerEncoder<uint>(pgType, binary),
            Int64Type => new IntegerEncoder<long>(pgType, binary),
            UInt64Type => new NumericEncoder(binary, 0),
            HalfFloatType => new FloatEncoder(binary, half: true),
            FloatType => new FloatEncoder(binary, half: false),
            DoubleType => new DoubleEncoder(binary),
            Decimal32Type d => new NumericEncoder(binary, d.Scale),
            Decimal64Type d => new NumericEncoder(binary, d.Scale),
            Decimal128Type d => new NumericEncoder(binary, d.Scale),
            Decimal256Type d => new NumericEncoder(binary, d.Scale),
            StringType or LargeStringType or StringViewType => new TextEncoder(pgType, binary),
            BinaryType or LargeBinaryType or BinaryViewType or FixedSizeBinaryType => new ByteaEncoder(binary),
            Date32Type or Date64Type => new DateEncoder(binary),
            Time32Type or Time64Type => new TimeEncoder(binary, ((TimeType)type).Unit),
            TimestampType ts => new TimestampEncoder(pgType, binary, ts.Unit, sessionZone),
            DurationType du => new IntervalEncoder(binary, du.Unit),
            IntervalType => new IntervalEncoder(binary, TimeUnit.Nanosecond),
            NullType => new NullEncoder(binary),
            DictionaryType dict => new DictionaryEncoder(pgType, binary,
                Create(new Field(field.Name, dict.ValueType, true, field.HasMetadata ? field.Metadata : null), binary, sessionZone)),
            ListType or LargeListType or FixedSizeListType => new ListEncoder(pgType, binary,
                Create(((NestedType)type).Fields[0], binary, sessionZone)),
            _ => throw new PostgresErrorException(SqlState.FeatureNotSupported, $"column \"{field.Name}\": Arrow type {type.Name} is not supported"),
        };
    }

    /// <summary>Microseconds of an Arrow time-based value, saturating to ±infinity beyond the range.</summary>
    internal static long ToMicros(long value, TimeUnit unit)
    {
        if (value == long.MaxValue)
        {
            return long.MaxValue;
        }
        if (value == long.MinValue || value == -long.MaxValue)
        {
            return long.MinValue;
        }
        return unit switch
        {
            TimeUnit.Second => SaturatingMultiply(value, PgDateTime.MicrosPerSecond),
            TimeUnit.Millisecond => SaturatingMultiply(value, 1000),
            TimeUnit.Microsecond => value,
            _ => PgDateTime.FloorDiv(value, 1000),
        };
    }

    private static long SaturatingMultiply(long value, long factor)
    {
        var r = (Int128)value * factor;
        return r > long.MaxValue ? long.MaxValue : r < long.MinValue ? long.MinValue : (long)r;
    }
}

internal sealed class NullEncoder(bool binary) : ColumnEncoder(PgType.Text, binary)
{
    protected override void BindTyped(IArrowArray array)
    {
    }

    public override bool IsNull(int row) => true;

    public override void WriteText(PgOutputBuffer buffer, int row) => throw new InvalidOperationException("null column");

    public override void WriteBinary(PgOutputBuffer buffer, int row) => throw new InvalidOperationException("null column");
}

internal sealed class BoolEncoder(bool binary) : ColumnEncoder(PgType.Bool, binary)
{
    private BooleanArray _a = null!;

    protected override void BindTyped(IArrowArray array) => _a = (BooleanArray)array;

    public override void WriteText(PgOutputBuffer buffer, int row) => buffer.WriteByte(_a.GetValue(row) == true ? (byte)'t' : (byte)'f');

    public override void WriteBinary(PgOutputBuffer buffer, int row) => buffer.WriteByte(_a.GetValue(row) == true ? (byte)1 : (byte)0);
}

internal sealed class Bool8Encoder(bool binary) : ColumnEncoder(PgType.Bool, binary)
{
    private Int8Array _a = null!;

    protected override void BindTyped(IArrowArray array) => _a = (Int8Array)array;

    public override void WriteText(PgOutputBuffer buffer, int row) => buffer.WriteByte(_a.Values[row] != 0 ? (byte)'t' : (byte)'f');

    public override void WriteBinary(PgOutputBuffer buffer, int row) => buffer.WriteByte(_a.Values[row] != 0 ? (byte)1 : (byte)0);
}

internal sealed class IntegerEncoder<T>(PgType type, bool binary) : ColumnEncoder(type, binary)
    where T : struct, IBinaryInteger<T>
{
    private PrimitiveArray<T> _a = null!;

    protected override void BindTyped(IArrowArray array) => _a = (PrimitiveArray<T>)array;

    private long Value(int row) => long.CreateTruncating(_a.Values[row]);

    public override void WriteText(PgOutputBuffer buffer, int row)
    {
        Utf8Formatter.TryFormat(Value(row), buffer.GetSpan(20), out var n);
        buffer.Advance(n);
    }

    public override void WriteBinary(PgOutputBuffer buffer, int row)
    {
        var v = Value(row);
        switch (Type.Length)
        {
            case 2:
                buffer.WriteInt16((short)v);
                break;
            case 4:
                buffer.WriteInt32((int)v);
                break;
            default:
                buffer.WriteInt64(v);
                break;
        }
    }
}

internal sealed class FloatEncoder(bool binary, bool half) : ColumnEncoder(PgType.Float4, binary)
{
    private FloatArray? _f;
    private HalfFloatArray? _h;

    protected override void BindTyped(IArrowArray array)
    {
        if (half)
        {
            _h = (HalfFloatArray)array;
        }
        else
        {
            _f = (FloatArray)array;
        }
    }

    private float Value(int row) => half ? (float)_h!.Values[row] : _f!.Values[row];

    public override void WriteText(PgOutputBuffer buffer, int row)
    {
        var span = buffer.GetSpan(32);
        Value(row).TryFormat(span, out var n, default, CultureInfo.InvariantCulture);
        FloatText.LowerExponent(span[..n]);
        buffer.Advance(n);
    }

    public override void WriteBinary(PgOutputBuffer buffer, int row) =>
        buffer.WriteInt32(BitConverter.SingleToInt32Bits(Value(row)));
}

internal sealed class DoubleEncoder(bool binary) : ColumnEncoder(PgType.Float8, binary)
{
    private DoubleArray _a = null!;

    protected override void BindTyped(IArrowArray array) => _a = (DoubleArray)array;

    public override void WriteText(PgOutputBuffer buffer, int row)
    {
        var span = buffer.GetSpan(32);
        _a.Values[row].TryFormat(span, out var n, default, CultureInfo.InvariantCulture);
        FloatText.LowerExponent(span[..n]);
        buffer.Advance(n);
    }

    public override void WriteBinary(PgOutputBuffer buffer, int row) =>
        buffer.WriteInt64(BitConverter.DoubleToInt64Bits(_a.Values[row]));
}

internal static class FloatText
{
    /// <summary>.NET writes <c>1E+20</c>; PostgreSQL writes <c>1e+20</c>.</summary>
    public static void LowerExponent(Span<byte> text)
    {
        var e = text.IndexOf((byte)'E');
        if (e >= 0)
        {
            text[e] = (byte)'e';
        }
    }
}

internal sealed class NumericEncoder(bool binary, int scale, bool unsignedHuge = false) : ColumnEncoder(PgType.Numeric, binary)
{
    private IArrowArray _a = null!;

    protected override void BindTyped(IArrowArray array) => _a = array;

    private BigInteger Unscaled(int row) => _a switch
    {
        Decimal128Array d => BinaryPrimitives.ReadInt128LittleEndian(d.GetBytes(row)),
        Decimal256Array d => new BigInteger(d.GetBytes(row), isUnsigned: false, isBigEndian: false),
        Decimal64Array d => BinaryPrimitives.ReadInt64LittleEndian(d.GetBytes(row)),
        Decimal32Array d => BinaryPrimitives.ReadInt32LittleEndian(d.GetBytes(row)),
        UInt64Array u => u.Values[row],
        FixedSizeBinaryArray f when unsignedHuge => BinaryPrimitives.ReadUInt128LittleEndian(f.GetBytes(row)),
        FixedSizeBinaryArray f => BinaryPrimitives.ReadInt128LittleEndian(f.GetBytes(row)),
        _ => throw new InvalidOperationException($"not a decimal array: {_a.Data.DataType.Name}"),
    };

    public override void WriteText(PgOutputBuffer buffer, int row) => PgNumeric.WriteText(buffer, Unscaled(row), scale);

    public override void WriteBinary(PgOutputBuffer buffer, int row) => PgNumeric.WriteBinary(buffer, Unscaled(row), scale);
}

internal sealed class TextEncoder(PgType type, bool binary) : ColumnEncoder(type, binary)
{
    private StringArray? _s;
    private LargeStringArray? _l;
    private StringViewArray? _v;

    protected override void BindTyped(IArrowArray array)
    {
        _s = array as StringArray;
        _l = array as LargeStringArray;
        _v = array as StringViewArray;
        if (_s is null && _l is null && _v is null)
        {
            throw new InvalidOperationException($"not a string array: {array.Data.DataType.Name}");
        }
    }

    private ReadOnlySpan<byte> Bytes(int row) => _s is not null ? _s.GetBytes(row) : _l is not null ? _l.GetBytes(row) : _v!.GetBytes(row);

    public override void WriteText(PgOutputBuffer buffer, int row) => buffer.WriteBytes(Bytes(row));

    public override void WriteBinary(PgOutputBuffer buffer, int row)
    {
        if (Type.Oid == PgType.Jsonb.Oid)
        {
            buffer.WriteByte(1); // jsonb binary format version
        }
        buffer.WriteBytes(Bytes(row));
    }
}

internal sealed class ByteaEncoder(bool binary) : ColumnEncoder(PgType.Bytea, binary)
{
    private BinaryArray? _b;
    private LargeBinaryArray? _l;
    private BinaryViewArray? _v;
    private FixedSizeBinaryArray? _f;

    protected override void BindTyped(IArrowArray array)
    {
        _b = array as BinaryArray;
        _l = array as LargeBinaryArray;
        _v = array as BinaryViewArray;
        _f = array as FixedSizeBinaryArray;
    }

    private ReadOnlySpan<byte> Bytes(int row) =>
        _b is not null ? _b.GetBytes(row) : _l is not null ? _l.GetBytes(row) : _v is not null ? _v.GetBytes(row) : _f!.GetBytes(row);

    public override void WriteText(PgOutputBuffer buffer, int row)
    {
        var bytes = Bytes(row);
        var dest = buffer.GetSpan(2 + bytes.Length * 2);
        dest[0] = (byte)'\\';
        dest[1] = (byte)'x';
        HexText.Write(bytes, dest[2..]);
        buffer.Advance(2 + bytes.Length * 2);
    }

    public override void WriteBinary(PgOutputBuffer buffer, int row) => buffer.WriteBytes(Bytes(row));
}

internal static class HexText
{
    private static ReadOnlySpan<byte> Digits => "0123456789abcdef"u8;

    public static void Write(ReadOnlySpan<byte> bytes, Span<byte> dest)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            dest[2 * i] = Digits[bytes[i] >> 4];
            dest[2 * i + 1] = Digits[bytes[i] & 0xF];
        }
    }
}

internal sealed class UuidEncoder(bool binary) : ColumnEncoder(PgType.Uuid, binary)
{
    private FixedSizeBinaryArray _a = null!;

    protected override void BindTyped(IArrowArray array) => _a = (FixedSizeBinaryArray)array;

    public override void WriteText(PgOutputBuffer buffer, int row)
    {
        var bytes = _a.GetBytes(row);
        var dest = buffer.GetSpan(36);
        HexText.Write(bytes[..4], dest);
        dest[8] = (byte)'-';
        HexText.Write(bytes[4..6], dest[9..]);
        dest[13] = (byte)'-';
        HexText.Write(bytes[6..8], dest[14..]);
        dest[18] = (byte)'-';
        HexText.Write(bytes[8..10], dest[19..]);
        dest[23] = (byte)'-';
        HexText.Write(bytes[10..16], dest[24..]);
        buffer.Advance(36);
    }

    public override void WriteBinary(PgOutputBuffer buffer, int row) => buffer.WriteBytes(_a.GetBytes(row));
}

internal sealed class DateEncoder(bool binary) : ColumnEncoder(PgType.Date, binary)
{
    private Date32Array? _d32;
    private Date64Array? _d64;

    protected override void BindTyped(IArrowArray array)
    {
        _d32 = array as Date32Array;
        _d64 = array as Date64Array;
    }

    private int Days(int row)
    {
        if (_d32 is not null)
        {
            return _d32.Values[row];
        }
        var days = PgDateTime.FloorDiv(_d64!.Values[row], 86_400_000);
        return days > int.MaxValue ? int.MaxValue : days < int.MinValue ? int.MinValue : (int)days;
    }

    public override void WriteText(PgOutputBuffer buffer, int row) =>
        buffer.Advance(PgDateTime.FormatDate(buffer.GetSpan(24), Days(row)));

    public override void WriteBinary(PgOutputBuffer buffer, int row) => buffer.WriteInt32(PgDateTime.ToPgDays(Days(row)));
}

internal sealed class TimeEncoder(bool binary, TimeUnit unit) : ColumnEncoder(PgType.Time, binary)
{
    private Time32Array? _t32;
    private Time64Array? _t64;

    protected override void BindTyped(IArrowArray array)
    {
        _t32 = array as Time32Array;
        _t64 = array as Time64Array;
    }

    private long Micros(int row) => ColumnEncoders.ToMicros(_t32 is not null ? _t32.Values[row] : _t64!.Values[row], unit);

    public override void WriteText(PgOutputBuffer buffer, int row) =>
        buffer.Advance(PgDateTime.FormatTime(buffer.GetSpan(24), Micros(row)));

    public override void WriteBinary(PgOutputBuffer buffer, int row) => buffer.WriteInt64(Micros(row));
}

internal sealed class TimestampEncoder(PgType type, bool binary, TimeUnit unit, TimeZoneInfo zone) : ColumnEncoder(type, binary)
{
    private TimestampArray _a = null!;
    private readonly bool _withZone = type.Oid == PgType.Timestamptz.Oid;

    protected override void BindTyped(IArrowArray array) => _a = (TimestampArray)array;

    private long Micros(int row) => ColumnEncoders.ToMicros(_a.Values[row], unit);

    public override void WriteText(PgOutputBuffer buffer, int row)
    {
        var micros = Micros(row);
        int? offset = _withZone ? PgDateTimeParser.UtcOffsetSeconds(zone, micros) : null;
        buffer.Advance(PgDateTime.FormatTimestamp(buffer.GetSpan(PgDateTime.MaxTimestampText), micros, offset));
    }

    public override void WriteBinary(PgOutputBuffer buffer, int row) => buffer.WriteInt64(PgDateTime.ToPgMicros(Micros(row)));
}

internal sealed class IntervalEncoder(bool binary, TimeUnit durationUnit) : ColumnEncoder(PgType.Interval, binary)
{
    private IArrowArray _a = null!;

    protected override void BindTyped(IArrowArray array) => _a = array;

    private (long Months, long Days, long Micros) Value(int row)
    {
        switch (_a)
        {
            case DurationArray d:
                return (0, 0, ColumnEncoders.ToMicros(d.Values[row], durationUnit));
            case MonthDayNanosecondIntervalArray m:
            {
                var v = m.Values[row];
                return (v.Months, v.Days, PgDateTime.FloorDiv(v.Nanoseconds, 1000));
            }
            case DayTimeIntervalArray dt:
            {
                var v = dt.Values[row];
                return (0, v.Days, v.Milliseconds * 1000L);
            }
            case YearMonthIntervalArray ym:
                return (MemoryMarshalMonths(ym.Values[row]), 0, 0);
            default:
                throw new InvalidOperationException($"not an interval array: {_a.Data.DataType.Name}");
        }
    }

    private static long MemoryMarshalMonths(YearMonthInterval value) =>
        System.Runtime.CompilerServices.Unsafe.As<YearMonthInterval, int>(ref value);

    public override void WriteText(PgOutputBuffer buffer, int row)
    {
        var (months, days, micros) = Value(row);
        buffer.Advance(PgDateTime.FormatInterval(buffer.GetSpan(96), months, days, micros));
    }

    public override void WriteBinary(PgOutputBuffer buffer, int row)
    {
        var (months, days, micros) = Value(row);
        buffer.WriteInt64(micros);
        buffer.WriteInt32((int)days);
        buffer.WriteInt32((int)months);
    }
}

internal sealed class DictionaryEncoder(PgType type, bool binary, ColumnEncoder values) : ColumnEncoder(type, binary)
{
    private IArrowArray _indices = null!;

    protected override void BindTyped(IArrowArray array)
    {
        var dict = (DictionaryArray)array;
        _indices = dict.Indices;
        values.Bind(dict.Dictionary);
    }

    private int Index(int row) => _indices switch
    {
        Int8Array a => a.Values[row],
        UInt8Array a => a.Values[row],
        Int16Array a => a.Values[row],
        UInt16Array a => a.Values[row],
        Int32Array a => a.Values[row],
        UInt32Array a => checked((int)a.Values[row]),
        Int64Array a => checked((int)a.Values[row]),
        UInt64Array a => checked((int)a.Values[row]),
        _ => throw new InvalidOperationException("unsupported dictionary index type"),
    };

    public override bool IsNull(int row) => _indices.IsNull(row) || values.IsNull(Index(row));

    public override void WriteText(PgOutputBuffer buffer, int row) => values.WriteText(buffer, Index(row));

    public override void WriteBinary(PgOutputBuffer buffer, int row) => values.WriteBinary(buffer, Index(row));
}

/// <summary>Arrow lists as one-dimensional PostgreSQL arrays (<c>{a,"b c",NULL}</c> or the binary array format).</summary>
internal sealed class ListEncoder(PgType type, bool binary, ColumnEncoder element) : ColumnEncoder(type, binary)
{
    private IArrowArray _list = null!;
    private readonly PgOutputBuffer _scratch = new();

    protected override void BindTyped(IArrowArray array)
    {
        _list = array;
        element.Bind(array switch
        {
            ListArray l => l.Values,
            LargeListArray l => l.Values,
            FixedSizeListArray f => f.Values,
            _ => throw new InvalidOperationException($"not a list array: {array.Data.DataType.Name}"),
        });
    }

    private (int Start, int End) Range(int row)
    {
        switch (_list)
        {
            case ListArray l:
            {
                var offsets = l.ValueOffsets;
                return (offsets[row], offsets[row + 1]);
            }
            case LargeListArray l:
            {
                var offsets = l.ValueOffsets;
                return (checked((int)offsets[row]), checked((int)offsets[row + 1]));
            }
            default:
            {
                var f = (FixedSizeListArray)_list;
                var size = ((FixedSizeListType)f.Data.DataType).ListSize;
                var start = (f.Offset + row) * size;
                return (start, start + size);
            }
        }
    }

    public override void WriteText(PgOutputBuffer buffer, int row)
    {
        var (start, end) = Range(row);
        buffer.WriteByte((byte)'{');
        for (var i = start; i < end; i++)
        {
            if (i > start)
            {
                buffer.WriteByte((byte)',');
            }
            if (element.IsNull(i))
            {
                buffer.WriteBytes("NULL"u8);
                continue;
            }
            _scratch.Clear();
            element.WriteText(_scratch, i);
            ArrayText.WriteElement(buffer, _scratch.WrittenSpan);
        }
        buffer.WriteByte((byte)'}');
    }

    public override void WriteBinary(PgOutputBuffer buffer, int row)
    {
        var (start, end) = Range(row);
        var count = end - start;
        var hasNull = false;
        for (var i = start; i < end && !hasNull; i++)
        {
            hasNull = element.IsNull(i);
        }
        buffer.WriteInt32(count == 0 ? 0 : 1);
        buffer.WriteInt32(hasNull ? 1 : 0);
        buffer.WriteInt32((int)element.Type.Oid);
        if (count > 0)
        {
            buffer.WriteInt32(count);
            buffer.WriteInt32(1);
        }
        for (var i = start; i < end; i++)
        {
            element.Write(buffer, i);
        }
    }
}

internal static class ArrayText
{
    /// <summary>Writes one array element's text, quoted and escaped when PostgreSQL's array syntax needs it.</summary>
    public static void WriteElement(PgOutputBuffer buffer, ReadOnlySpan<byte> text)
    {
        if (!NeedsQuotes(text))
        {
            buffer.WriteBytes(text);
            return;
        }
        buffer.WriteByte((byte)'"');
        foreach (var b in text)
        {
            if (b == '"' || b == '\\')
            {
                buffer.WriteByte((byte)'\\');
            }
            buffer.WriteByte(b);
        }
        buffer.WriteByte((byte)'"');
    }

    private static bool NeedsQuotes(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty || (text.Length == 4 && System.Text.Ascii.EqualsIgnoreCase(text, "NULL"u8)))
        {
            return true;
        }
        foreach (var b in text)
        {
            if (b is (byte)'{' or (byte)'}' or (byte)',' or (byte)'"' or (byte)'\\' or (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f')
            {
                return true;
            }
        }
        return false;
    }
}
