namespace TimeFusion.Tables;

/// <summary>Quoting of identifiers and literals for SQL text we generate for DuckDB.</summary>
public static class SqlNames
{
    /// <summary>Quotes an identifier: <c>a"b</c> becomes <c>"a""b"</c>.</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    /// <summary>Quotes a string literal: <c>it's</c> becomes <c>'it''s'</c>.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''") + "'";
}
