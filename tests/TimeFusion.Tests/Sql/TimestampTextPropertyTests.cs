using System.Globalization;
using System.Text;
using CsCheck;
using DuckDB.NET.Data;
using TimeFusion.Query.Planning;
using TimeFusion.Silo.Protocol.Postgres.Types;

namespace TimeFusion.Tests.Sql;

/// <summary>
/// Property test (CsCheck) of timestamptz text in the ISO forms PostgreSQL 15 accepts — seconds or not, fractions, a
/// space or <c>T</c>, no offset, <c>Z</c>, <c>±HH</c>, <c>±HH:MM</c>, <c>±HHMM</c> — against a reference instant computed
/// from the generated fields: the wire's parser (parameters, COPY) reads each as that instant, and the planner's
/// normalized text (SQL literals) reads as the same instant in DuckDB; text without an offset is read in the session
/// zone by both.
/// </summary>
public sealed class TimestampTextPropertyTests : IDisposable
{
    private readonly DuckDBConnection _db = new("DataSource=:memory:");

    public TimestampTextPropertyTests() => _db.Open();

    public void Dispose() => _db.Dispose();

    private sealed record Sample(DateTime Local, bool Seconds, int FractionDigits, char Separator, int OffsetKind, int OffsetMinutes)
    {
        public string Text
        {
            get
            {
                var sb = new StringBuilder(Local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(Separator)
                    .Append(Local.ToString(Seconds ? "HH:mm:ss" : "HH:mm", CultureInfo.InvariantCulture));
                if (Seconds && FractionDigits > 0) sb.Append('.').Append(Digits);
                var sign = OffsetMinutes < 0 ? '-' : '+';
                var abs = Math.Abs(OffsetMinutes);
                switch (OffsetKind)
                {
                    case 1: sb.Append('Z'); break;
                    case 2: sb.Append(sign).Append((abs / 60).ToString("D2", CultureInfo.InvariantCulture)); break;
                    case 3: sb.Append(sign).Append((abs / 60).ToString("D2", CultureInfo.InvariantCulture)).Append(':').Append((abs % 60).ToString("D2", CultureInfo.InvariantCulture)); break;
                    case 4: sb.Append(sign).Append((abs / 60).ToString("D2", CultureInfo.InvariantCulture)).Append((abs % 60).ToString("D2", CultureInfo.InvariantCulture)); break;
                }
                return sb.ToString();
            }
        }

        /// <summary>The instant PostgreSQL reads (no offset: <paramref name="zone"/>).</summary>
        public long ExpectedMicros(TimeZoneInfo zone)
        {
            var local = Seconds
                ? new DateTime(Local.Ticks - Local.Ticks % TimeSpan.TicksPerSecond + Fraction, DateTimeKind.Unspecified)
                : new DateTime(Local.Ticks - Local.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Unspecified);
            var offset = OffsetKind switch
            {
                0 => zone.GetUtcOffset(local),
                1 => TimeSpan.Zero,
                2 => TimeSpan.FromHours(OffsetMinutes / 60),
                _ => TimeSpan.FromMinutes(OffsetMinutes),
            };
            // Ticks, not DateTimeOffset: PostgreSQL takes offsets up to 15:59, .NET only up to 14:00.
            return (local.Ticks - offset.Ticks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        }

        private string Digits => (Local.Ticks % TimeSpan.TicksPerSecond / 10).ToString("D6", CultureInfo.InvariantCulture)[..FractionDigits];

        // In ticks, as written (the digits the text keeps).
        private long Fraction => FractionDigits == 0 ? 0 : long.Parse(Digits, CultureInfo.InvariantCulture) * (long)Math.Pow(10, 6 - FractionDigits) * 10;

        /// <summary>A local time a daylight-saving change skips or repeats: zone databases may resolve those differently.</summary>
        public bool AtTransition(TimeZoneInfo zone) => zone.IsInvalidTime(Local) || zone.IsAmbiguousTime(Local)
            || zone.IsInvalidTime(Local.AddHours(-1)) || zone.IsAmbiguousTime(Local.AddHours(-1));
    }

    private static readonly Gen<Sample> Samples =
        from ticks in Gen.Long[new DateTime(1971, 1, 1).Ticks, new DateTime(2099, 12, 31).Ticks]
        from seconds in Gen.Bool
        from fraction in Gen.Int[0, 6]
        from separator in Gen.OneOfConst(' ', 'T')
        from kind in Gen.Int[0, 4]
        from hours in Gen.Int[-12, 14]
        from quarter in Gen.Int[0, 3]
        select new Sample(new DateTime(ticks - ticks % 10), seconds, fraction, separator, kind,
            kind == 2 ? hours * 60 : hours * 60 + Math.Sign(hours == 0 ? 1 : hours) * quarter * 15);

    private long DuckDbMicros(string text, string zone)
    {
        using (var set = _db.CreateCommand())
        {
            set.CommandText = $"SET TimeZone = '{zone}'";
            set.ExecuteNonQuery();
        }
        using var cmd = _db.CreateCommand();
        cmd.CommandText = $"SELECT epoch_us(CAST('{text}' AS TIMESTAMPTZ))";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    [Fact]
    public void The_wire_parser_reads_every_iso_form_as_postgresql_does() =>
        Samples.Sample(s =>
            PgDateTimeParser.TryParseTimestamp(Encoding.ASCII.GetBytes(s.Text), true, TimeZoneInfo.Utc, out var micros)
            && micros == s.ExpectedMicros(TimeZoneInfo.Utc), iter: 500);

    [Fact]
    public void Normalized_sql_literals_read_in_duckdb_as_the_same_instant_in_utc_and_in_a_session_zone()
    {
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        Samples.Sample(s =>
        {
            var normalized = TimestampLiterals.Normalize(s.Text, out var hasOffset);
            if (normalized is null || hasOffset != (s.OffsetKind != 0) || DuckDbMicros(normalized, "UTC") != s.ExpectedMicros(TimeZoneInfo.Utc)) return false;
            // Around a daylight-saving change the local time is skipped or repeated: only UTC is compared there.
            return s.AtTransition(paris)
                || DuckDbMicros(normalized, "Europe/Paris") == s.ExpectedMicros(paris)
                && PgDateTimeParser.TryParseTimestamp(Encoding.ASCII.GetBytes(s.Text), true, paris, out var wire) && wire == s.ExpectedMicros(paris);
        }, iter: 300, threads: 1); // one DuckDB connection, its TimeZone set per sample
    }

    [Theory]
    [InlineData("now")]
    [InlineData("epoch")]
    [InlineData("infinity")]
    [InlineData("2024-01-01 10:00:00 BC")]
    [InlineData("2024-01-01 10:00:00 Europe/Paris")]
    [InlineData("not a time")]
    public void Other_text_is_left_for_duckdb_to_read(string text) => Assert.Null(TimestampLiterals.Normalize(text, out _));
}
