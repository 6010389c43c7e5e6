using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Types;

/// <summary>
/// PostgreSQL <c>numeric</c>: text and the binary form (base-10000 digits with weight, sign and display
/// scale), to and from an unscaled integer plus a scale.
/// </summary>
internal static class PgNumeric
{
    private const ushort SignPositive = 0x0000;
    private const ushort SignNegative = 0x4000;
    private const ushort SignNaN = 0xC000;
    private const ushort SignPositiveInfinity = 0xD000;
    private const ushort SignNegativeInfinity = 0xF000;

    /// <summary>Writes <c>unscaled × 10^-scale</c> as text (e.g. <c>-12.340</c>).</summary>
    public static void WriteText(PgOutputBuffer buffer, BigInteger unscaled, int scale)
    {
        Span<char> chars = stackalloc char[96];
        var length = FormatText(chars, unscaled, scale, out var heap);
        var text = heap is null ? chars[..length] : heap.AsSpan();
        var dest = buffer.GetSpan(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            dest[i] = (byte)text[i];
        }
        buffer.Advance(text.Length);
    }

    /// <summary>The text form of <c>unscaled × 10^-scale</c>.</summary>
    public static string ToText(BigInteger unscaled, int scale)
    {
        Span<char> chars = stackalloc char[96];
        var length = FormatText(chars, unscaled, scale, out var heap);
        return heap ?? new string(chars[..length]);
    }

    private static int FormatText(Span<char> chars, BigInteger unscaled, int scale, out string? heap)
    {
        heap = null;
        var negative = unscaled.Sign < 0;
        var abs = BigInteger.Abs(unscaled);
        Span<char> digits = stackalloc char[80];
        string? bigDigits = null;
        if (!abs.TryFormat(digits, out var n, default, CultureInfo.InvariantCulture))
        {
            bigDigits = abs.ToString(CultureInfo.InvariantCulture);
        }
        ReadOnlySpan<char> d = bigDigits is null ? digits[..n] : bigDigits.AsSpan();
        var needed = d.Length + Math.Max(0, scale) + 3;
        if (needed > chars.Length)
        {
            var array = new char[needed];
            var len = Compose(array, d, scale, negative);
            heap = new string(array, 0, len);
            return len;
        }
        return Compose(chars, d, scale, negative);
    }

    private static int Compose(Span<char> dest, ReadOnlySpan<char> digits, int scale, bool negative)
    {
        var pos = 0;
        if (negative)
        {
            dest[pos++] = '-';
        }
        if (scale <= 0)
        {
            digits.CopyTo(dest[pos..]);
            pos += digits.Length;
            for (var i = 0; i < -scale; i++)
            {
                dest[pos++] = '0';
            }
            return pos;
        }
        var intDigits = digits.Length - scale;
        if (intDigits <= 0)
        {
            dest[pos++] = '0';
            dest[pos++] = '.';
            for (var i = 0; i < -intDigits; i++)
            {
                dest[pos++] = '0';
            }
            digits.CopyTo(dest[pos..]);
            return pos + digits.Length;
        }
        digits[..intDigits].CopyTo(dest[pos..]);
        pos += intDigits;
        dest[pos++] = '.';
        digits[intDigits..].CopyTo(dest[pos..]);
        return pos + scale;
    }

    /// <summary>Writes <c>unscaled × 10^-scale</c> in the binary numeric format.</summary>
    public static void WriteBinary(PgOutputBuffer buffer, BigInteger unscaled, int scale)
    {
        var negative = unscaled.Sign < 0;
        var abs = BigInteger.Abs(unscaled);
        var dscale = Math.Max(scale, 0);
        if (scale < 0)
        {
            abs *= BigInteger.Pow(10, -scale);
        }
        // Align to a multiple of four fractional digits so base-10000 groups fall on the decimal point.
        var pad = (4 - dscale % 4) % 4;
        if (pad > 0)
        {
            abs *= BigInteger.Pow(10, pad);
        }
        var fracGroups = (dscale + pad) / 4;
        Span<short> groups = stackalloc short[64];
        var count = 0;
        var tenThousand = new BigInteger(10000);
        while (!abs.IsZero)
        {
            abs = BigInteger.DivRem(abs, tenThousand, out var rem);
            if (count == groups.Length)
            {
                var bigger = new short[groups.Length * 2];
                groups.CopyTo(bigger);
                groups = bigger;
            }
            groups[count++] = (short)(int)rem;
        }
        // groups[0] is the least significant; weight of the most significant group:
        var weight = count - fracGroups - 1;
        // Strip trailing zero groups (least significant) — they carry no information beyond dscale.
        var low = 0;
        while (low < count && groups[low] == 0)
        {
            low++;
        }
        var ndigits = count - low;
        if (ndigits == 0)
        {
            buffer.WriteInt16(0);
            buffer.WriteInt16(0);
            buffer.WriteInt16((short)SignPositive);
            buffer.WriteInt16((short)dscale);
            return;
        }
        buffer.WriteInt16((short)ndigits);
        buffer.WriteInt16((short)weight);
        buffer.WriteInt16(unchecked((short)(negative ? SignNegative : SignPositive)));
        buffer.WriteInt16((short)dscale);
        for (var i = count - 1; i >= low; i--)
        {
            buffer.WriteInt16(groups[i]);
        }
    }

    /// <summary>
    /// Decodes a binary numeric into an unscaled integer and scale. NaN and ±Infinity return false with
    /// <paramref name="special"/> set (<c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>).
    /// </summary>
    public static bool TryDecodeBinary(ReadOnlySpan<byte> value, out BigInteger unscaled, out int scale, out string? special)
    {
        unscaled = BigInteger.Zero;
        scale = 0;
        special = null;
        if (value.Length < 8)
        {
            throw Invalid();
        }
        var ndigits = BinaryPrimitives.ReadInt16BigEndian(value);
        var weight = BinaryPrimitives.ReadInt16BigEndian(value[2..]);
        var sign = BinaryPrimitives.ReadUInt16BigEndian(value[4..]);
        var dscale = BinaryPrimitives.ReadInt16BigEndian(value[6..]);
        if (ndigits < 0 || dscale < 0 || value.Length != 8 + ndigits * 2)
        {
            throw Invalid();
        }
        switch (sign)
        {
            case SignNaN:
                special = "NaN";
                return false;
            case SignPositiveInfinity:
                special = "Infinity";
                return false;
            case SignNegativeInfinity:
                special = "-Infinity";
                return false;
            case SignPositive:
            case SignNegative:
                break;
            default:
                throw Invalid();
        }
        var acc = BigInteger.Zero;
        for (var i = 0; i < ndigits; i++)
        {
            var g = BinaryPrimitives.ReadInt16BigEndian(value[(8 + i * 2)..]);
            if (g < 0 || g > 9999)
            {
                throw Invalid();
            }
            acc = acc * 10000 + g;
        }
        // acc holds digits whose last group has weight (weight - ndigits + 1): value = acc * 10000^(weight-ndigits+1).
        var exp4 = weight - ndigits + 1;
        if (exp4 >= 0)
        {
            acc *= BigInteger.Pow(10000, exp4);
            unscaled = acc * BigInteger.Pow(10, dscale);
        }
        else
        {
            var fracDigits = -exp4 * 4;
            if (fracDigits > 16383 + 4)
            {
                throw Invalid();
            }
            // Rescale from fracDigits to dscale (dscale >= meaningful digits; truncating extra zeros).
            if (fracDigits > dscale)
            {
                acc /= BigInteger.Pow(10, fracDigits - dscale);
            }
            else
            {
                acc *= BigInteger.Pow(10, dscale - fracDigits);
            }
            unscaled = acc;
        }
        if (sign == SignNegative)
        {
            unscaled = -unscaled;
        }
        scale = dscale;
        return true;
    }

    /// <summary>Parses numeric text (<c>[-+]digits[.digits][e[-+]n]</c>) into an unscaled integer and scale.</summary>
    public static bool TryParseText(ReadOnlySpan<byte> text, out BigInteger unscaled, out int scale)
    {
        unscaled = BigInteger.Zero;
        scale = 0;
        text = text.Trim((byte)' ');
        if (text.IsEmpty || text.Length > 4096)
        {
            return false;
        }
        var pos = 0;
        var negative = false;
        if (text[pos] == '-' || text[pos] == '+')
        {
            negative = text[pos] == '-';
            pos++;
        }
        Span<char> digits = stackalloc char[text.Length];
        var nd = 0;
        var sawDigit = false;
        var fraction = 0;
        var inFraction = false;
        for (; pos < text.Length; pos++)
        {
            var c = (char)text[pos];
            if (char.IsAsciiDigit(c))
            {
                digits[nd++] = c;
                sawDigit = true;
                if (inFraction)
                {
                    fraction++;
                }
            }
            else if (c == '.' && !inFraction)
            {
                inFraction = true;
            }
            else
            {
                break;
            }
        }
        if (!sawDigit)
        {
            return false;
        }
        var exponent = 0;
        if (pos < text.Length && (text[pos] == 'e' || text[pos] == 'E'))
        {
            pos++;
            if (!int.TryParse(text[pos..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent) || Math.Abs(exponent) > 1000)
            {
                return false;
            }
            pos = text.Length;
        }
        if (pos != text.Length)
        {
            return false;
        }
        unscaled = BigInteger.Parse(digits[..nd], NumberStyles.None, CultureInfo.InvariantCulture);
        scale = fraction - exponent;
        if (scale < 0)
        {
            unscaled *= BigInteger.Pow(10, -scale);
            scale = 0;
        }
        if (negative)
        {
            unscaled = -unscaled;
        }
        return true;
    }

    /// <summary>Rescales an unscaled value to <paramref name="toScale"/>, rounding half away from zero (as PostgreSQL).</summary>
    public static BigInteger Rescale(BigInteger unscaled, int fromScale, int toScale)
    {
        if (toScale >= fromScale)
        {
            return unscaled * BigInteger.Pow(10, toScale - fromScale);
        }
        var divisor = BigInteger.Pow(10, fromScale - toScale);
        var q = BigInteger.DivRem(unscaled, divisor, out var r);
        if (BigInteger.Abs(r) * 2 >= divisor)
        {
            q += unscaled.Sign;
        }
        return q;
    }

    /// <summary>An unscaled value as a <see cref="decimal"/>, or null when it does not fit.</summary>
    public static decimal? ToDecimal(BigInteger unscaled, int scale)
    {
        while (scale > 28 || BigInteger.Abs(unscaled) > MaxDecimalMantissa)
        {
            if (scale == 0)
            {
                return null;
            }
            unscaled = Rescale(unscaled, scale, scale - 1);
            scale--;
        }
        var negative = unscaled.Sign < 0;
        var abs = BigInteger.Abs(unscaled);
        var lo = (int)(uint)(abs & uint.MaxValue);
        var mid = (int)(uint)((abs >> 32) & uint.MaxValue);
        var hi = (int)(uint)((abs >> 64) & uint.MaxValue);
        return new decimal(lo, mid, hi, negative, (byte)scale);
    }

    /// <summary>A <see cref="decimal"/> as an unscaled integer and scale.</summary>
    public static (BigInteger Unscaled, int Scale) FromDecimal(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var mantissa = (new BigInteger((uint)bits[2]) << 64) | (new BigInteger((uint)bits[1]) << 32) | (uint)bits[0];
        var scale = (bits[3] >> 16) & 0xFF;
        return (bits[3] < 0 ? -mantissa : mantissa, scale);
    }

    private static readonly BigInteger MaxDecimalMantissa = (BigInteger.One << 96) - 1;

    private static PostgresErrorException Invalid() => new(SqlState.InvalidBinaryRepresentation, "invalid binary numeric value");
}
