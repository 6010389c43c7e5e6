using System.Collections;
using System.Globalization;
using System.Text;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Protocol.Postgres.Types;
using TimeFusion.Sql;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// Binds extended-query parameters (<c>$1</c>, <c>$2</c>, …) by substituting typed SQL literals, so the planner and
/// the grains see one self-contained statement. Parameters are found with the shared SQL lexer (<see cref="SqlTokenizer"/>), so a
/// <c>$1</c> inside a string, identifier or comment is left alone; values are rendered as literals, each wrapped in
/// parentheses so that no value (a negative number, a quote, a comment marker) can change the statement's shape. A text
/// value that is an operand of <c>+ - * / %</c> and reads as a number binds as that number (<see cref="UntypedArithmetic"/>),
/// as PostgreSQL types an untyped parameter from the other operand.
/// </summary>
internal static class ParameterBinder
{
    /// <summary>
    /// <paramref name="sql"/> with each <c>$n</c> replaced by its value's literal. A text value of a parameter in
    /// <paramref name="arrayParameters"/> (see <see cref="ArrayParameterTargets"/>) is PostgreSQL array text and binds as a list.
    /// </summary>
    public static string Bind(string sql, IReadOnlyList<object?> parameters, IReadOnlySet<int>? arrayParameters = null)
    {
        if (parameters.Count == 0) return sql;
        var result = new StringBuilder(sql.Length + parameters.Count * 16);
        var last = 0;
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        for (var t = 0; t < tokens.Count; t++)
        {
            var token = tokens[t];
            if (!token.IsPositionalParameter(sql)) continue;
            var index = int.Parse(sql.AsSpan(token.Start + 1, token.End - token.Start - 1), CultureInfo.InvariantCulture);
            if (index < 1 || index > parameters.Count)
                throw new PostgresErrorException(SqlState.ProtocolViolation, $"there is no parameter ${index} ({parameters.Count} bound)");
            // Parenthesized: a value can never join the tokens around it (1-$1 with -5 must stay 1-(-5), not the
            // comment 1--5), whatever its type renders as.
            var value = parameters[index - 1];
            result.Append(sql, last, token.Start - last).Append('(')
                .Append(arrayParameters is not null && arrayParameters.Contains(index) && value is string text ? ArrayLiteral(text)
                    : value is string number && UntypedArithmetic.IsOperand(sql, tokens, t) && UntypedArithmetic.Numeric(number) is { } numeric ? numeric
                    : Literal(value))
                .Append(')');
            last = token.End;
        }
        return result.Append(sql, last, sql.Length - last).ToString();
    }

    /// <summary>The highest parameter number the statement uses.</summary>
    public static int Count(string sql)
    {
        var max = 0;
        foreach (var token in SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient))
        {
            if (token.IsPositionalParameter(sql)
                && int.TryParse(sql.AsSpan(token.Start + 1, token.End - token.Start - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                max = Math.Max(max, n);
        }
        return max;
    }

    private static string Literal(object? value) => value switch
    {
        null or DBNull => "NULL",
        bool b => b ? "TRUE" : "FALSE",
        string s => SqlNames.Literal(NoNul(s)),
        char c => SqlNames.Literal(NoNul(c.ToString())),
        byte or sbyte or short or ushort or int or uint or long or ulong or decimal => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        float f => Floating(f),
        double d => Floating(d),
        DateTimeOffset t => $"TIMESTAMPTZ '{t.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00'",
        DateTime t when t.Kind == DateTimeKind.Utc => $"TIMESTAMPTZ '{t:yyyy-MM-dd HH:mm:ss.ffffff}+00'",
        DateTime t => $"TIMESTAMP '{t:yyyy-MM-dd HH:mm:ss.ffffff}'",
        DateOnly d => $"DATE '{d:yyyy-MM-dd}'",
        TimeSpan span => $"INTERVAL '{(long)(span.Ticks / 10)} microseconds'",
        Guid g => $"'{g}'::UUID",
        byte[] bytes => $"from_hex('{Convert.ToHexString(bytes)}')",
        IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Literal)) + "]",
        _ => throw new PostgresErrorException(SqlState.FeatureNotSupported, $"parameters of type {value.GetType().Name} are not supported"),
    };

    /// <summary>PostgreSQL array text (<c>{"x","y z",NULL}</c>) as a DuckDB list of text; the statement casts it on.</summary>
    private static string ArrayLiteral(string text) =>
        "[" + string.Join(", ", PgArrayText.ParseStrings(text).Select(Literal)) + "]::VARCHAR[]";

    /// <summary>PostgreSQL refuses the NUL character in text values (and so in text parameters) with 22021.</summary>
    private static string NoNul(string s) => s.Contains('\0')
        ? throw new PostgresErrorException(SqlState.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x00")
        : s;

    private static string Floating(double d) =>
        // Through DuckDB's string-to-double parser: a numeric literal such as 1.2345E-5 is read via DECIMAL or an inexact
        // path and may not give back the same double (found by ParameterBinderTests).
        $"'{(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : d.ToString("R", CultureInfo.InvariantCulture))}'::DOUBLE";
}
