using CsCheck;
using DuckDB.NET.Data;
using TimeFusion.Silo.Backend;

namespace TimeFusion.Tests.Security;

/// <summary>
/// Property test (CsCheck) of parameter binding over hostile values of every supported type (finding 6): whatever the
/// value, and wherever the parameter stands (after a minus, a slash, inside nested parentheses, before a comment
/// marker), the bound statement keeps its shape — one row, the value's column and the column after it — and the value
/// comes back as itself where DuckDB returns it as the same .NET type.
/// </summary>
public sealed class ParameterBindingPropertyTests : IDisposable
{
    private readonly DuckDBConnection _db = new("DataSource=:memory:");

    public ParameterBindingPropertyTests() => _db.Open();

    public void Dispose() => _db.Dispose();

    // Every template has the parameter somewhere a pasted value could join its neighbours, then a second column.
    private static readonly string[] Templates =
    [
        "SELECT $1 AS v, 'visible' AS w",
        "SELECT ($1) AS v, 'visible' AS w",
        "SELECT $1/*c*/ AS v, 'visible' AS w",
        "SELECT $1 AS v, 'visible' AS w -- $1",
        "SELECT $1 AS v, 'vis' || 'ible' AS w WHERE 1 = 1",
    ];

    private (object? Value, bool ShapeKept) Run(string template, object? parameter)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = ParameterBinder.Bind(template, [parameter]);
        using var reader = cmd.ExecuteReader();
        if (!reader.Read() || reader.FieldCount != 2) return (null, false);
        var value = reader.IsDBNull(0) ? null : reader.GetValue(0);
        var kept = reader.GetString(1) == "visible" && !reader.Read();
        return (value, kept);
    }

    private void Check<T>(Gen<T> gen, Func<T, object?, bool> sameValue, long iterations = 150) =>
        gen.Select(Gen.Int[0, Templates.Length - 1]).Sample((value, t) =>
        {
            var (back, kept) = Run(Templates[t], value);
            return kept && sameValue(value, back);
        }, iter: iterations);

    private static readonly Gen<string> Hostile = Gen.OneOf(
        Gen.Char[" '\"\\-/*;$1abcé\n\t\r)(,:`[]{}%_—"].Array[0, 30].Select(c => new string(c)),
        Gen.OneOfConst("--", "/*", "*/", "'", "''", "\\'", "$$", "$1", "'; DROP TABLE x; --", "E'\\''", "1--5", "-1", "NULL", "); SELECT 1; --", "😀'--"));

    [Fact]
    public void Integers_of_every_width_keep_their_value() =>
        Check(Gen.OneOf(Gen.Long.Select(v => (object)v), Gen.Int.Select(v => (object)v), Gen.Short.Select(v => (object)v),
                Gen.OneOfConst<object>(long.MinValue, long.MaxValue, -1L, 0L, -5L, int.MinValue)),
            (v, back) => back is not null && Convert.ToDecimal(back) == Convert.ToDecimal(v));

    [Fact]
    public void Decimals_keep_their_value() =>
        Check(Gen.Long[-1_000_000_000_000_000, 1_000_000_000_000_000].Select(Gen.Int[0, 6]).Select((m, s) => (decimal)m / (decimal)Math.Pow(10, s)),
            (v, back) => back is not null && Convert.ToDecimal(back) == v);

    [Fact]
    public void Doubles_including_nan_and_infinities_keep_their_value() =>
        Check(Gen.OneOf(Gen.Double, Gen.OneOfConst(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, -5.0)),
            (v, back) => back is double d && (d.Equals(v) || (double.IsNaN(v) && double.IsNaN(d))));

    [Fact]
    public void Hostile_text_keeps_its_value() =>
        Check(Hostile, (v, back) => (string?)back == v, 300);

    [Fact]
    public void Booleans_and_nulls_keep_their_value()
    {
        Check(Gen.Bool, (v, back) => back is bool b && b == v, 20);
        foreach (var t in Templates) Assert.Equal((null, true), Run(t, null));
    }

    [Fact]
    public void Uuids_and_bytes_keep_their_value()
    {
        Check(Gen.Guid, (v, back) => back is Guid g && g == v, 50);
        Check(Gen.Byte.Array[0, 40], (v, back) => back is byte[] b ? b.AsSpan().SequenceEqual(v) : back is Stream s && ReadAll(s).AsSpan().SequenceEqual(v), 100);
    }

    [Fact]
    public void Dates_timestamps_and_intervals_keep_the_statement_shape()
    {
        var micros = Gen.Long[0, 4_102_444_800_000_000]; // 1970 .. 2100 in microseconds
        Check(micros.Select(us => DateTimeOffset.UnixEpoch.AddTicks(us * 10)), (v, back) => back is DateTime d && d.Ticks == v.UtcDateTime.Ticks
            || back is DateTimeOffset o && o.UtcTicks == v.UtcTicks, 100);
        Check(Gen.Int[0, 3_000_000].Select(DateOnly.FromDayNumber), (v, back) => back is DateOnly d ? d == v : back is DateTime t && DateOnly.FromDateTime(t) == v, 100);
        Check(Gen.Long[-86_400_000_000L * 365, 86_400_000_000L * 365].Select(us => TimeSpan.FromTicks(us * 10)), (_, back) => back is not null, 100);
    }

    [Fact]
    public void Lists_of_hostile_text_keep_the_statement_shape() =>
        Check(Hostile.Array[0, 5], (v, back) => back is System.Collections.IList list && list.Count == v.Length, 150);

    private static byte[] ReadAll(Stream s)
    {
        using var copy = new MemoryStream();
        s.CopyTo(copy);
        return copy.ToArray();
    }
}
