using System.Globalization;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Protocol.Postgres.Types;
using TimeFusion.Sql;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// Parameter types a statement states itself, as PostgreSQL infers them for Describe: <c>$1::int</c> and
/// <c>CAST($1 AS text[])</c> make <c>$1</c> int4 and text[]. Parameters without a cast stay text (unknown).
/// </summary>
internal static class ParameterTypeInference
{
    /// <summary>The cast type of each parameter number that has one (the first cast found wins).</summary>
    public static Dictionary<int, PgType> Infer(string sql)
    {
        var result = new Dictionary<int, PgType>();
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (!tokens[i].IsPositionalParameter(sql)
                || !int.TryParse(sql.AsSpan(tokens[i].Start + 1, tokens[i].Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                || result.ContainsKey(n))
            {
                continue;
            }
            int typeStart;
            if (i + 2 < tokens.Count && tokens[i + 1].IsSymbolChar(sql, ':') && tokens[i + 2].IsSymbolChar(sql, ':'))
            {
                typeStart = i + 3; // $1::type
            }
            else if (i >= 2 && tokens[i - 1].IsSymbolChar(sql, '(') && tokens[i - 2].IsKeyword(sql, "CAST") && i + 1 < tokens.Count && tokens[i + 1].IsKeyword(sql, "AS"))
            {
                typeStart = i + 2; // CAST($1 AS type)
            }
            else
            {
                continue;
            }
            if (TypeAt(sql, tokens, typeStart) is { } type)
            {
                result[n] = type;
            }
        }
        return result;
    }

    /// <summary>The longest type name (up to four words, a modifier and [] suffixes) starting at token <paramref name="start"/>.</summary>
    private static PgType? TypeAt(string sql, List<SqlToken> tokens, int start)
    {
        var words = 0;
        while (start + words < tokens.Count && words < 4
               && tokens[start + words].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier or SqlTokenKind.Dot)
        {
            words++;
        }
        for (var w = words; w > 0; w--)
        {
            var end = start + w;
            // A modifier (varchar(10)) and array brackets belong to the type.
            if (end < tokens.Count && tokens[end].IsSymbolChar(sql, '('))
            {
                while (end < tokens.Count && !tokens[end].IsSymbolChar(sql, ')')) end++;
                end++;
            }
            while (end + 1 < tokens.Count && tokens[end].IsSymbolChar(sql, '[') && tokens[end + 1].IsSymbolChar(sql, ']'))
            {
                end += 2;
            }
            var last = Math.Min(end, tokens.Count) - 1;
            if (PgTypeNames.Resolve(sql[tokens[start].Start..tokens[last].End]) is { } type)
            {
                return type;
            }
        }
        return null;
    }
}
