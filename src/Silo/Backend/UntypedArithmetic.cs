using System.Text.RegularExpressions;
using TimeFusion.Sql;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// Untyped parameters in arithmetic. node-postgres (and any driver sending OID 0) sends every parameter as text;
/// PostgreSQL gives such a parameter the type of the other operand, so <c>n + $1</c> with <c>'5'</c> adds 5. Bound as a
/// string literal, DuckDB cannot choose between its <c>+</c> overloads. So a text value that is an operand of one of
/// <c>+ - * / %</c> and reads as a number binds as that numeric literal; anything else stays a string literal. Only text
/// matching the number grammar (digits, one point, an exponent, a sign) is ever written into the statement.
/// </summary>
internal static partial class UntypedArithmetic
{
    private const string Operators = "+-*/%";

    [GeneratedRegex(@"^\s*(?<n>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberText();

    /// <summary>
    /// Whether the parameter at token <paramref name="index"/> stands next to a one-character arithmetic operator and is
    /// not cast (<c>$1::interval</c> states its type: the text goes to the cast as it is).
    /// </summary>
    public static bool IsOperand(string sql, IReadOnlyList<SqlToken> tokens, int index)
    {
        if (index + 1 < tokens.Count && sql[tokens[index + 1].Start] == ':') return false;
        return (index > 0 && IsArithmetic(sql, tokens, index - 1)) || (index + 1 < tokens.Count && IsArithmetic(sql, tokens, index + 1));
    }

    /// <summary>
    /// The number <paramref name="text"/> spells as SQL (without a leading <c>+</c>), or null when it is not one. A decimal
    /// fraction is cast to the widest decimal of its scale: DuckDB types the literal <c>0.00000000000005541</c> as
    /// DECIMAL(18,17) and then cannot fit the other operand (<c>10 + …</c>: "Could not cast value 10"), where PostgreSQL's
    /// numeric has room for both. Beyond 38 digits it is a double.
    /// </summary>
    public static string? Numeric(string text)
    {
        var match = NumberText().Match(text);
        if (!match.Success) return null;
        var n = match.Groups["n"].Value;
        if (n[0] == '+') n = n[1..];
        var point = n.IndexOf('.');
        if (point < 0 || n.AsSpan().IndexOfAny('e', 'E') >= 0) return n;
        var digits = n.Count(char.IsAsciiDigit);
        var scale = n.Length - point - 1;
        return digits <= 38 ? $"CAST({n} AS DECIMAL(38,{scale}))" : $"CAST({n} AS DOUBLE)";
    }

    /// <summary>
    /// Token <paramref name="i"/> is one of <c>+ - * / %</c> standing alone: PostgreSQL lexes adjacent operator characters
    /// as one operator (<c>-&gt;</c>, <c>#-</c>, <c>@-@</c>), and those are not arithmetic.
    /// </summary>
    private static bool IsArithmetic(string sql, IReadOnlyList<SqlToken> tokens, int i)
    {
        var token = tokens[i];
        if (token.Kind != SqlTokenKind.Operator || !Operators.Contains(sql[token.Start])) return false;
        var glued = (i > 0 && tokens[i - 1].Kind == SqlTokenKind.Operator && tokens[i - 1].Start + tokens[i - 1].Length == token.Start)
            || (i + 1 < tokens.Count && tokens[i + 1].Kind == SqlTokenKind.Operator && token.Start + token.Length == tokens[i + 1].Start);
        return !glued;
    }
}
