using System.Text;
using TimeFusion.Sql;
using TimeFusion.Tables;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// Replaces <c>current_setting('name')</c> of a setting the connection holds (application_name, TimeZone, DateStyle, …,
/// which SET never sends to the backend) with the connection's value as a literal, so the statement reads the session's
/// setting wherever it runs. Other settings are left to the catalog's <c>current_setting</c>.
/// </summary>
internal static class SessionSettingCalls
{
    public static string Substitute(string sql, Func<string, string?> setting)
    {
        if (!sql.Contains("current_setting", StringComparison.OrdinalIgnoreCase)) return sql;
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        StringBuilder? result = null;
        var last = 0;
        for (var i = 0; i + 3 < tokens.Count; i++)
        {
            // current_setting ( 'name' )  or  current_setting ( 'name' , missing_ok )
            if (!tokens[i].IsKeyword(sql, "current_setting") || !tokens[i + 1].IsSymbolChar(sql, '(') || tokens[i + 2].StringValue(sql) is not { } name)
                continue;
            var close = i + 3;
            if (tokens[close].Kind == SqlTokenKind.Comma && close + 2 < tokens.Count && tokens[close + 1].Kind == SqlTokenKind.Word) close += 2;
            if (!tokens[close].IsSymbolChar(sql, ')') || setting(name) is not { } value) continue;
            var start = tokens[i].Start;
            // pg_catalog.current_setting(…)
            if (i >= 2 && tokens[i - 1].Kind == SqlTokenKind.Dot && tokens[i - 2].IsKeyword(sql, "pg_catalog")) start = tokens[i - 2].Start;
            if (start < last) continue;
            result ??= new StringBuilder(sql.Length);
            result.Append(sql, last, start - last).Append('(').Append(SqlNames.Literal(value)).Append(')');
            last = tokens[close].End;
        }
        return result is null ? sql : result.Append(sql, last, sql.Length - last).ToString();
    }
}
