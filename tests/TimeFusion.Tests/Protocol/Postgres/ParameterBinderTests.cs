using CsCheck;
using DuckDB.NET.Data;
using TimeFusion.Silo.Backend;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>
/// Substituted parameters cannot change a statement's shape (the CVE-2024-1597 class: <c>1-$1</c> with -5 must not
/// become the comment <c>1--5</c>). Checked by running the bound SQL in DuckDB: the value comes back as itself and the
/// column after it is still there.
/// </summary>
public sealed class ParameterBinderTests : IDisposable
{
    private readonly DuckDBConnection _db = new("DataSource=:memory:");

    public ParameterBinderTests() => _db.Open();

    public void Dispose() => _db.Dispose();

    private (object? Value, object? After) Run(string sql, object? parameter)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = ParameterBinder.Bind(sql, [parameter]);
        using var reader = cmd.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(2, reader.FieldCount);
        var result = (reader.IsDBNull(0) ? null : reader.GetValue(0), reader.GetValue(1));
        Assert.False(reader.Read());
        return result;
    }

    [Fact]
    public void A_negative_number_after_a_minus_stays_a_number()
    {
        var (value, after) = Run("SELECT 1-$1 AS v, 'visible' AS w", -5L);
        Assert.Equal(6L, Convert.ToInt64(value));
        Assert.Equal("visible", after);
        Assert.Equal(3.5, Convert.ToDouble(Run("SELECT 1-$1 AS v, 'visible' AS w", -2.5).Value));
        Assert.Equal(11m, Convert.ToDecimal(Run("SELECT 1-$1 AS v, 'visible' AS w", -10m).Value));
    }

    [Fact]
    public void Any_integer_is_subtracted_as_a_value() =>
        Gen.Int.Sample(v => Convert.ToInt64(Run("SELECT 1-$1 AS v, 'visible' AS w", (long)v).Value) == 1L - v, iter: 300);

    [Fact]
    public void Any_double_is_read_back_as_itself() =>
        Gen.Double.Where(double.IsFinite).Sample(v => Convert.ToDouble(Run("SELECT -$1 AS v, 'visible' AS w", v).Value) == -v, iter: 300);

    [Fact]
    public void Any_string_with_quotes_backslashes_and_comment_markers_is_read_back_as_itself()
    {
        var hostile = Gen.Char[" '\"\\-/*;$1abcé\n\t)("].Array[0, 40].Select(chars => new string(chars));
        hostile.Sample(s => (string?)Run("SELECT $1 AS v, 'visible' AS w", s).Value == s
            && (string?)Run("SELECT 'x'||$1 AS v, 'visible' AS w", s).Value == "x" + s, iter: 300);
    }

    [Fact]
    public void Nulls_booleans_dates_and_arrays_keep_their_place()
    {
        Assert.Null(Run("SELECT $1 AS v, 'visible' AS w", null).Value);
        Assert.Equal(false, Run("SELECT NOT $1 AS v, 'visible' AS w", true).Value);
        Assert.Equal("2026-12-06", Run("SELECT strftime($1, '%Y-%m-%d') AS v, 'visible' AS w", new DateOnly(2026, 12, 6)).Value);
        Assert.Equal(3L, Convert.ToInt64(Run("SELECT len($1) AS v, 'visible' AS w", new[] { "a", "b'--", "c" }).Value));
    }

    [Fact]
    public void Untyped_numeric_text_next_to_an_arithmetic_operator_binds_as_the_number()
    {
        Assert.Equal(15m, Convert.ToDecimal(Run("SELECT 10 + $1 AS v, 'visible' AS w", "5").Value));
        Assert.Equal(15m, Convert.ToDecimal(Run("SELECT 10 - $1 AS v, 'visible' AS w", "-5").Value));
        Assert.Equal(12.5m, Convert.ToDecimal(Run("SELECT 10 + $1 AS v, 'visible' AS w", " +2.5 ").Value));
        Assert.Equal(110m, Convert.ToDecimal(Run("SELECT $1 + 10 AS v, 'visible' AS w", "1e2").Value));
        Assert.Equal(30m, Convert.ToDecimal(Run("SELECT $1*10 AS v, 'visible' AS w", "3").Value));
        Assert.Equal(1m, Convert.ToDecimal(Run("SELECT 10 % $1 AS v, 'visible' AS w", "3").Value));
        Assert.Equal(2.5m, Convert.ToDecimal(Run("SELECT 10 / $1 AS v, 'visible' AS w", "4").Value));
    }

    [Fact]
    public void Untyped_text_outside_arithmetic_stays_text()
    {
        // ->> is one operator (its '-' is not a minus): the key stays the text '5'.
        Assert.Equal("yes", Run("""SELECT '{"5":"yes"}'::JSON ->> $1 AS v, 'visible' AS w""", "5").Value);
        Assert.Equal("5", Run("SELECT $1 AS v, 'visible' AS w", "5").Value);
        Assert.Equal("x5", Run("SELECT 'x' || $1 AS v, 'visible' AS w", "5").Value);
        Assert.Equal(true, Run("SELECT '5' = $1 AS v, 'visible' AS w", "5").Value);
        // A cast states the type: the text goes to it as it is ('5 seconds'::interval, not 5::interval).
        Assert.Equal("SELECT now() - ('5')::interval", ParameterBinder.Bind("SELECT now() - $1::interval", ["5"]));
    }

    [Fact]
    public void Any_text_next_to_a_plus_is_either_the_number_it_spells_or_a_string_literal()
    {
        const string template = "SELECT 10 + $1 AS v, 'visible' AS w";
        var text = Gen.OneOf(
            Gen.Char["0123456789.eE+- "].Array[0, 12].Select(c => new string(c)),
            Gen.Char[" '\"\\-/*;$1abcé\n\t)(e."].Array[0, 30].Select(c => new string(c)),
            Gen.Decimal.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        text.Sample(s =>
        {
            var bound = ParameterBinder.Bind(template, [s]);
            if (UntypedArithmetic.Numeric(s) is null)
                return bound == $"SELECT 10 + ({TimeFusion.Tables.SqlNames.Literal(s)}) AS v, 'visible' AS w";
            var expected = 10 + double.Parse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
            if (!double.IsFinite(expected) || Math.Abs(expected) > 1e300) return true; // beyond double: DuckDB's own range error
            var back = Run(template, s).Value;
            var value = back is System.Numerics.BigInteger big ? (double)big : Convert.ToDouble(back); // HUGEINT for wide integers
            return Math.Abs(value - expected) <= 1e-9 * Math.Max(1, Math.Abs(expected));
        }, iter: 300);
    }
}
