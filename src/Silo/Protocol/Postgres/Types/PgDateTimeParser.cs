namespace TimeFusion.Silo.Protocol.Postgres.Types;

/// <summary>
/// Parses PostgreSQL ISO date/time text (what drivers and COPY send): <c>YYYY-MM-DD[ |T]HH:MM[:SS[.f]][Z|±HH[:MM[:SS]]][ BC]</c>,
/// <c>infinity</c>, <c>-infinity</c> and <c>epoch</c>. Results are Unix-epoch microseconds / days.
/// </summary>
internal static class PgDateTimeParser
{
    /// <summary>
    /// Parses a timestamp. With <paramref name="withTimeZone"/>, an explicit offset is applied and a missing
    /// one means <paramref name="sessionZone"/>; without it any offset is ignored, as PostgreSQL does.
    /// </summary>
    public static bool TryParseTimestamp(ReadOnlySpan<byte> text, bool withTimeZone, TimeZoneInfo sessionZone, out long unixMicros)
    {
        if (TryParseIsoFixed(text, out var local, out var offset, out var hasOffset))
        {
            if (!withTimeZone || (!hasOffset && sessionZone == TimeZoneInfo.Utc))
            {
                unixMicros = local;
                return true;
            }
            if (hasOffset)
            {
                unixMicros = local - offset * PgDateTime.MicrosPerSecond;
                return true;
            }
        }
        return TryParseTimestampGeneral(text, withTimeZone, sessionZone, out unixMicros);
    }

    /// <summary>
    /// The shape nearly every client sends, <c>YYYY-MM-DD HH:MM:SS[.ffffff][Z|±HH[:MM]]</c>, read at fixed positions
    /// (COPY parses one per timestamp field). Anything else returns false for <see cref="TryParseTimestampGeneral"/>,
    /// which gives the same result for every input this accepts.
    /// </summary>
    internal static bool TryParseIsoFixed(ReadOnlySpan<byte> t, out long localMicros, out int offsetSeconds, out bool hasOffset)
    {
        localMicros = 0;
        offsetSeconds = 0;
        hasOffset = false;
        if (t.Length < 19 || t[4] != '-' || t[7] != '-' || (t[10] != ' ' && t[10] != 'T' && t[10] != 't') || t[13] != ':' || t[16] != ':')
        {
            return false;
        }
        if (!Digits(t, 0, 4, out var year) || !Digits(t, 5, 2, out var month) || !Digits(t, 8, 2, out var day)
            || !Digits(t, 11, 2, out var hours) || !Digits(t, 14, 2, out var minutes) || !Digits(t, 17, 2, out var seconds))
        {
            return false;
        }
        if (hours > 24 || minutes > 59 || seconds > 60 || !PgDateTime.IsValidDate(year, month, day))
        {
            return false;
        }
        var pos = 19;
        long fraction = 0;
        if (pos < t.Length && t[pos] == '.')
        {
            pos++;
            var digits = 0;
            while (pos < t.Length && digits < 7 && char.IsAsciiDigit((char)t[pos]))
            {
                fraction = fraction * 10 + (t[pos] - '0');
                digits++;
                pos++;
            }
            if (digits is 0 or 7)
            {
                return false; // no digits, or more than microseconds (rounding): the general parser decides
            }
            for (var i = digits; i < 6; i++)
            {
                fraction *= 10;
            }
        }
        if (pos < t.Length)
        {
            if (t[pos] is (byte)'Z' or (byte)'z' && pos + 1 == t.Length)
            {
                hasOffset = true;
            }
            else if (t[pos] is (byte)'+' or (byte)'-' && (t.Length - pos == 3 || (t.Length - pos == 6 && t[pos + 3] == ':'))
                     && Digits(t, pos + 1, 2, out var oh) && oh <= 15)
            {
                var om = 0;
                if (t.Length - pos == 6 && (!Digits(t, pos + 4, 2, out om) || om > 59))
                {
                    return false;
                }
                hasOffset = true;
                offsetSeconds = (t[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
            }
            else
            {
                return false;
            }
        }
        localMicros = PgDateTime.DaysFromCivil(year, month, day) * PgDateTime.MicrosPerDay
            + hours * PgDateTime.MicrosPerHour + minutes * PgDateTime.MicrosPerMinute + seconds * PgDateTime.MicrosPerSecond + fraction;
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> t, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            var d = (uint)(t[i] - '0');
            if (d > 9)
            {
                return false;
            }
            value = value * 10 + (int)d;
        }
        return true;
    }

    /// <summary>Every form <see cref="TryParseTimestamp"/> accepts (spaces, infinities, BC, other offset forms, rounding).</summary>
    internal static bool TryParseTimestampGeneral(ReadOnlySpan<byte> text, bool withTimeZone, TimeZoneInfo sessionZone, out long unixMicros)
    {
        unixMicros = 0;
        text = text.Trim((byte)' ');
        if (TrySpecial(text, out var special))
        {
            unixMicros = special;
            return true;
        }
        var c = new Cursor(text);
        if (!TryParseDatePart(ref c, out var days))
        {
            return false;
        }
        long time = 0;
        if (!c.End && (c.Peek == ' ' || c.Peek == 'T' || c.Peek == 't') && c.HasDigitAt(1))
        {
            c.Skip(1);
            if (!TryParseTimePart(ref c, out time))
            {
                return false;
            }
        }
        c.SkipSpaces();
        int? offset = null;
        if (!c.End && c.Peek != 'B' && c.Peek != 'b')
        {
            if (!TryParseOffset(ref c, out var off))
            {
                return false;
            }
            offset = off;
            c.SkipSpaces();
        }
        var bc = false;
        if (c.MatchIgnoreCase("BC"))
        {
            bc = true;
        }
        if (!c.End)
        {
            return false;
        }
        if (bc)
        {
            if (!TryRebaseBc(ref days))
            {
                return false;
            }
        }
        try
        {
            var local = checked(days * PgDateTime.MicrosPerDay + time);
            if (!withTimeZone)
            {
                unixMicros = local;
            }
            else if (offset is { } o)
            {
                unixMicros = checked(local - o * PgDateTime.MicrosPerSecond);
            }
            else
            {
                unixMicros = checked(local - ZoneOffsetSeconds(sessionZone, local) * PgDateTime.MicrosPerSecond);
            }
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>Parses a date (a time part, if present, is dropped as PostgreSQL does).</summary>
    public static bool TryParseDate(ReadOnlySpan<byte> text, out int unixDays)
    {
        unixDays = 0;
        var trimmed = text.Trim((byte)' ');
        if (trimmed.SequenceEqual("infinity"u8) || trimmed.SequenceEqual("+infinity"u8))
        {
            unixDays = int.MaxValue;
            return true;
        }
        if (trimmed.SequenceEqual("-infinity"u8))
        {
            unixDays = int.MinValue;
            return true;
        }
        if (!TryParseTimestamp(trimmed, false, TimeZoneInfo.Utc, out var micros))
        {
            return false;
        }
        var days = PgDateTime.FloorDiv(micros, PgDateTime.MicrosPerDay);
        if (days <= int.MinValue || days >= int.MaxValue)
        {
            return false;
        }
        unixDays = (int)days;
        return true;
    }

    /// <summary>Parses a time of day <c>HH:MM[:SS[.f]]</c> (an offset, if any, is ignored) into microseconds.</summary>
    public static bool TryParseTime(ReadOnlySpan<byte> text, out long micros)
    {
        var c = new Cursor(text.Trim((byte)' '));
        if (!TryParseTimePart(ref c, out micros))
        {
            return false;
        }
        c.SkipSpaces();
        if (!c.End && !TryParseOffset(ref c, out _))
        {
            return false;
        }
        return c.End && micros <= PgDateTime.MicrosPerDay;
    }

    /// <summary>The UTC offset of <paramref name="zone"/> at a local wall-clock time (Unix micros).</summary>
    public static int ZoneOffsetSeconds(TimeZoneInfo zone, long localMicros)
    {
        if (zone == TimeZoneInfo.Utc || zone.BaseUtcOffset == TimeSpan.Zero && !zone.SupportsDaylightSavingTime)
        {
            return 0;
        }
        var ticks = localMicros * 10 + DateTime.UnixEpoch.Ticks;
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            return (int)zone.BaseUtcOffset.TotalSeconds;
        }
        return (int)zone.GetUtcOffset(new DateTime(ticks, DateTimeKind.Unspecified)).TotalSeconds;
    }

    /// <summary>The UTC offset of <paramref name="zone"/> at a UTC instant (Unix micros).</summary>
    public static int UtcOffsetSeconds(TimeZoneInfo zone, long utcMicros)
    {
        if (zone == TimeZoneInfo.Utc)
        {
            return 0;
        }
        var ticks = utcMicros * 10 + DateTime.UnixEpoch.Ticks;
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            return (int)zone.BaseUtcOffset.TotalSeconds;
        }
        return (int)zone.GetUtcOffset(new DateTime(ticks, DateTimeKind.Utc)).TotalSeconds;
    }

    private static bool TrySpecial(ReadOnlySpan<byte> text, out long micros)
    {
        micros = 0;
        if (text.SequenceEqual("infinity"u8) || text.SequenceEqual("+infinity"u8))
        {
            micros = long.MaxValue;
            return true;
        }
        if (text.SequenceEqual("-infinity"u8))
        {
            micros = long.MinValue;
            return true;
        }
        if (text.SequenceEqual("epoch"u8))
        {
            return true;
        }
        return false;
    }

    private static bool TryParseDatePart(ref Cursor c, out long days)
    {
        days = 0;
        if (!c.TryDigits(1, 9, out var year) || !c.Match('-') || !c.TryDigits(1, 2, out var month) || !c.Match('-') || !c.TryDigits(1, 2, out var day))
        {
            return false;
        }
        if (!PgDateTime.IsValidDate(year, (int)month, (int)day))
        {
            return false;
        }
        days = PgDateTime.DaysFromCivil(year, (int)month, (int)day);
        return true;
    }

    // "0044-03-15 BC" is astronomical year -43: shift the already computed day number by the year change.
    private static bool TryRebaseBc(ref long days)
    {
        var (year, month, day) = PgDateTime.CivilFromDays(days);
        if (year < 1)
        {
            return false;
        }
        var astronomical = 1 - year;
        if (!PgDateTime.IsValidDate(astronomical, month, day))
        {
            return false;
        }
        days = PgDateTime.DaysFromCivil(astronomical, month, day);
        return true;
    }

    private static bool TryParseTimePart(ref Cursor c, out long micros)
    {
        micros = 0;
        if (!c.TryDigits(1, 2, out var hours) || !c.Match(':') || !c.TryDigits(2, 2, out var minutes))
        {
            return false;
        }
        long seconds = 0;
        long fraction = 0;
        if (c.Match(':'))
        {
            if (!c.TryDigits(2, 2, out seconds))
            {
                return false;
            }
            if (c.Match('.'))
            {
                if (!c.TryFraction(out fraction))
                {
                    return false;
                }
            }
        }
        if (hours > 24 || minutes > 59 || seconds > 60)
        {
            return false;
        }
        micros = hours * PgDateTime.MicrosPerHour + minutes * PgDateTime.MicrosPerMinute + seconds * PgDateTime.MicrosPerSecond + fraction;
        return true;
    }

    private static bool TryParseOffset(ref Cursor c, out int seconds)
    {
        seconds = 0;
        if (c.Match('Z') || c.Match('z') || c.MatchIgnoreCase("UTC") || c.MatchIgnoreCase("GMT"))
        {
            return true;
        }
        int sign;
        if (c.Match('+'))
        {
            sign = 1;
        }
        else if (c.Match('-'))
        {
            sign = -1;
        }
        else
        {
            return false;
        }
        if (!c.TryDigits(1, 2, out var h))
        {
            return false;
        }
        long m = 0, s = 0;
        if (c.Match(':') || c.HasDigitAt(0))
        {
            if (!c.TryDigits(2, 2, out m))
            {
                return false;
            }
            if (c.Match(':') || c.HasDigitAt(0))
            {
                if (!c.TryDigits(2, 2, out s))
                {
                    return false;
                }
            }
        }
        if (h > 15 || m > 59 || s > 59)
        {
            return false;
        }
        seconds = sign * (int)(h * 3600 + m * 60 + s);
        return true;
    }

    private ref struct Cursor(ReadOnlySpan<byte> text)
    {
        private readonly ReadOnlySpan<byte> _text = text;
        private int _pos;

        public readonly bool End => _pos >= _text.Length;

        public readonly byte Peek => _text[_pos];

        public readonly bool HasDigitAt(int ahead) => _pos + ahead < _text.Length && char.IsAsciiDigit((char)_text[_pos + ahead]);

        public void Skip(int n) => _pos += n;

        public void SkipSpaces()
        {
            while (_pos < _text.Length && _text[_pos] == ' ')
            {
                _pos++;
            }
        }

        public bool Match(char ch)
        {
            if (_pos < _text.Length && _text[_pos] == ch)
            {
                _pos++;
                return true;
            }
            return false;
        }

        public bool MatchIgnoreCase(string word)
        {
            if (_pos + word.Length > _text.Length)
            {
                return false;
            }
            for (var i = 0; i < word.Length; i++)
            {
                if (char.ToUpperInvariant((char)_text[_pos + i]) != word[i])
                {
                    return false;
                }
            }
            _pos += word.Length;
            return true;
        }

        public bool TryDigits(int min, int max, out long value)
        {
            value = 0;
            var start = _pos;
            while (_pos < _text.Length && _pos - start < max && char.IsAsciiDigit((char)_text[_pos]))
            {
                value = value * 10 + (_text[_pos] - '0');
                _pos++;
            }
            return _pos - start >= min;
        }

        /// <summary>Fraction digits rounded to microseconds (half up).</summary>
        public bool TryFraction(out long micros)
        {
            micros = 0;
            var start = _pos;
            var digits = 0;
            var roundUp = false;
            while (_pos < _text.Length && char.IsAsciiDigit((char)_text[_pos]))
            {
                var d = _text[_pos] - '0';
                if (digits < 6)
                {
                    micros = micros * 10 + d;
                }
                else if (digits == 6)
                {
                    roundUp = d >= 5;
                }
                digits++;
                _pos++;
            }
            for (var i = digits; i < 6; i++)
            {
                micros *= 10;
            }
            if (roundUp)
            {
                micros++;
            }
            return _pos > start;
        }
    }
}
