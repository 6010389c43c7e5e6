using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Grains;
using TimeFusion.Sql;
using TimeFusion.Tables;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// Marks the text columns of a result that hold JSON, so that RowDescription says jsonb (OID 3802) as PostgreSQL
/// does: the buffer keeps JSON columns as VARCHAR and DuckDB exports its JSON type as plain utf8, so the type is
/// recovered from the statement: a result column named like a JSON column of a table the statement reads, or a
/// <c>::jsonb</c> / <c>::json</c> / <c>CAST(… AS jsonb)</c> expression (by its alias or DuckDB's generated name).
/// </summary>
internal static class JsonResultColumns
{
    /// <summary>Whether any field could be JSON (a string field): only then are the tables looked at.</summary>
    public static bool MayHaveJson(Schema schema) => schema.FieldsList.Any(f => f.DataType is StringType or LargeStringType or StringViewType);

    /// <summary><paramref name="schema"/> with its JSON fields marked <c>ARROW:extension:name = arrow.json</c> (the same schema when none).</summary>
    public static Schema Mark(Schema schema, string sql, IReadOnlyList<TableDefinition> tables)
    {
        var names = JsonNames(sql, tables);
        var positions = JsonCastPositions(sql, schema.FieldsList.Count);
        if (names.Count == 0 && positions.Count == 0 && !schema.FieldsList.Any(f => IsJsonCastName(f.Name))) return schema;
        var changed = false;
        var fields = schema.FieldsList.Select((f, index) =>
        {
            if (f.DataType is not (StringType or LargeStringType or StringViewType) || PgArrowMetadata.IsJson(f)
                || !(names.Contains(f.Name) || positions.Contains(index) || IsJsonCastName(f.Name)))
                return f;
            changed = true;
            var metadata = f.HasMetadata ? new Dictionary<string, string>(f.Metadata) : [];
            metadata[PgArrowMetadata.ExtensionNameKey] = PgArrowMetadata.JsonExtensionName;
            return new Field(f.Name, f.DataType, f.IsNullable, metadata);
        }).ToList();
        return changed ? new Schema(fields, schema.Metadata) : schema;
    }

    /// <summary>JSON column names of the tables <paramref name="sql"/> names, and aliases of JSON casts.</summary>
    private static HashSet<string> JsonNames(string sql, IReadOnlyList<TableDefinition> tables)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        var words = tokens.Where(t => t.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier).Select(t => t.FoldedIdentifier(sql)!).ToHashSet(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            if (!words.Contains(table.Name)) continue;
            foreach (var column in table.Columns)
            {
                if (column.Type == ColumnType.Json) result.Add(column.Name);
            }
        }
        // expr::jsonb AS alias  |  CAST(expr AS jsonb) AS alias
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if (!(tokens[i].IsKeyword(sql, "JSONB") || tokens[i].IsKeyword(sql, "JSON"))) continue;
            var j = i + 1;
            if (j < tokens.Count && tokens[j].IsSymbolChar(sql, ')') && i >= 1 && tokens[i - 1].IsKeyword(sql, "AS")) j++;
            else if (!(i >= 2 && tokens[i - 1].IsSymbolChar(sql, ':') && tokens[i - 2].IsSymbolChar(sql, ':'))) continue;
            if (j + 1 < tokens.Count && tokens[j].IsKeyword(sql, "AS") && tokens[j + 1].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
                result.Add(tokens[j + 1].FoldedIdentifier(sql)!);
            else
                result.Add(tokens[i].FoldedIdentifier(sql)!); // unaliased: PostgreSQL (and the gateway) name the column for the type

        }
        return result;
    }

    /// <summary>
    /// Positions of the select-list items of a plain <c>SELECT a, b::jsonb, … FROM</c> that end in a JSON cast (an
    /// unaliased one is named <c>?column?</c> by the gateway), when the list has exactly <paramref name="fieldCount"/> items.
    /// </summary>
    private static HashSet<int> JsonCastPositions(string sql, int fieldCount)
    {
        var result = new HashSet<int>();
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        if (tokens.Count == 0 || !tokens[0].IsKeyword(sql, "SELECT")) return result;
        var items = new List<(int Start, int End)>();
        var depth = 0;
        var start = 1;
        var i = 1;
        for (; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.Kind == SqlTokenKind.Open) depth++;
            else if (t.Kind == SqlTokenKind.Close) depth--;
            else if (depth == 0 && t.Kind == SqlTokenKind.Comma) { items.Add((start, i)); start = i + 1; }
            else if (depth == 0 && (t.IsKeyword(sql, "FROM") || t.Kind == SqlTokenKind.Semicolon)) break;
        }
        items.Add((start, i));
        if (items.Count != fieldCount) return result;
        for (var n = 0; n < items.Count; n++)
        {
            var (a, b) = items[n];
            if (b - a < 3) continue;
            var last = tokens[b - 1];
            var isJson = last.IsKeyword(sql, "JSONB") || last.IsKeyword(sql, "JSON");
            if (isJson && tokens[b - 2].IsSymbolChar(sql, ':') && tokens[b - 3].IsSymbolChar(sql, ':')) result.Add(n);
            else if (last.IsSymbolChar(sql, ')') && (tokens[b - 2].IsKeyword(sql, "JSONB") || tokens[b - 2].IsKeyword(sql, "JSON"))
                     && tokens[b - 3].IsKeyword(sql, "AS") && tokens[a].IsKeyword(sql, "CAST")) result.Add(n);
        }
        return result;
    }

    /// <summary>DuckDB's generated name of an unaliased JSON cast: <c>CAST('{}' AS JSON)</c> or <c>CAST(x AS jsonb)</c>.</summary>
    private static bool IsJsonCastName(string name) =>
        name.StartsWith("CAST(", StringComparison.OrdinalIgnoreCase)
        && (name.EndsWith(" AS JSON)", StringComparison.OrdinalIgnoreCase) || name.EndsWith(" AS JSONB)", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(" AS \"jsonb\")", StringComparison.OrdinalIgnoreCase))
        || name.EndsWith("::jsonb", StringComparison.OrdinalIgnoreCase) || name.EndsWith("::json", StringComparison.OrdinalIgnoreCase);
}
