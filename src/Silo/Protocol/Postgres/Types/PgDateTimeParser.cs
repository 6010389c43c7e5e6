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
