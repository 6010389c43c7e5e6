using System.Globalization;
using TimeFusion.Grains;
using TimeFusion.Sql;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// The parameters whose text value goes into an array, so that PostgreSQL array text (<c>{"x","y z"}</c>, as
/// node-postgres and postgres.js send text[] parameters) is bound as a list: a parameter cast to an array type
/// (<c>$1::text[]</c>), an INSERT … VALUES position of an array column, or <c>SET col = $n</c> of an array column.
/// </summary>
internal static class ArrayParameterTargets
{
    /// <summary>Parameter numbers (1-based) bound to arrays; <paramref name="findTable"/> resolves a folded table name.</summary>
    public static HashSet<int> Find(string sql, Func<string, TableDefinition?> findTable)
    {
        var result = new HashSet<int>();
        foreach (var (n, type) in ParameterTypeInference.Infer(sql))
        {
            if (type.IsArray) result.Add(n);
        }
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        QuantifiedTargets(sql, tokens, result);
        if (tokens.Count < 3) return result;
        if (tokens[0].IsKeyword(sql, "INSERT") && tokens[1].IsKeyword(sql, "INTO")) InsertTargets(sql, tokens, findTable, result);
        else if (tokens[0].IsKeyword(sql, "UPDATE")) UpdateTargets(sql, tokens, findTable, result);
        return result;
    }

    /// <summary><c>= ANY($n)</c>, <c>ALL($n)</c>, <c>SOME($n)</c>: the parameter is the array compared with (pgjdbc, node-postgres).</summary>
    private static void QuantifiedTargets(string sql, List<SqlToken> tokens, HashSet<int> result)
    {
        for (var i = 0; i + 3 < tokens.Count; i++)
        {
            if ((tokens[i].IsKeyword(sql, "ANY") || tokens[i].IsKeyword(sql, "ALL") || tokens[i].IsKeyword(sql, "SOME"))
                && tokens[i + 1].IsSymbolChar(sql, '(') && tokens[i + 2].IsPositionalParameter(sql) && tokens[i + 3].IsSymbolChar(sql, ')')
                && int.TryParse(sql.AsSpan(tokens[i + 2].Start + 1, tokens[i + 2].Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                result.Add(n);
        }
    }

    private static void InsertTargets(string sql, List<SqlToken> tokens, Func<string, TableDefinition?> findTable, HashSet<int> result)
    {
        var i = 2;
        if (TableAt(sql, tokens, ref i, findTable) is not { } table) return;
        IReadOnlyList<string> columns;
        if (i < tokens.Count && tokens[i].IsSymbolChar(sql, '('))
        {
            var named = new List<string>();
            for (i++; i < tokens.Count && !tokens[i].IsSymbolChar(sql, ')'); i++)
            {
                if (tokens[i].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier) named.Add(tokens[i].FoldedIdentifier(sql)!);
            }
            i++;
            columns = named;
        }
        else
        {
            // Without a column list, VALUES fill the columns a user declared, in order (the partition column is derived).
            columns = table.Columns.Where(c => c.Name != TableSchema.DateColumn).Select(c => c.Name).ToList();
        }
        if (i >= tokens.Count || !tokens[i].IsKeyword(sql, "VALUES")) return;
        var arrays = ArrayColumns(table);
        // Each row: ( v1, v2, … ); a parameter that is a whole value at an array column's position is an array.
        var depth = 0;
        var position = 0;
        var valueStart = -1;
        for (i++; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.IsSymbolChar(sql, '(') || t.IsSymbolChar(sql, '['))
            {
                depth++;
                if (depth == 1) { position = 0; valueStart = i + 1; }
                continue;
            }
            if (t.IsSymbolChar(sql, ')') || t.IsSymbolChar(sql, ']'))
            {
                if (depth == 1) Check(valueStart, i);
                depth--;
                if (depth < 0) return;
                continue;
            }
            if (depth == 1 && t.Kind == SqlTokenKind.Comma)
            {
                Check(valueStart, i);
                position++;
                valueStart = i + 1;
            }
            else if (depth == 0 && t.Kind != SqlTokenKind.Comma)
            {
                return; // ON CONFLICT, RETURNING, …
            }
        }

        void Check(int start, int end)
        {
            if (end - start == 1 && position < columns.Count && arrays.Contains(columns[position]) && Parameter(sql, tokens[start]) is { } n)
                result.Add(n);
        }
    }

    private static void UpdateTargets(string sql, List<SqlToken> tokens, Func<string, TableDefinition?> findTable, HashSet<int> result)
    {
        var i = 1;
        if (TableAt(sql, tokens, ref i, findTable) is not { } table) return;
        var arrays = ArrayColumns(table);
        // col = $n [, | WHERE | end]
        for (; i + 2 < tokens.Count; i++)
        {
            if (tokens[i].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier && arrays.Contains(tokens[i].FoldedIdentifier(sql)!)
                && tokens[i + 1].IsOperator(sql, '=') && Parameter(sql, tokens[i + 2]) is { } n
                && (i + 3 == tokens.Count || tokens[i + 3].Kind is SqlTokenKind.Comma or SqlTokenKind.Semicolon || tokens[i + 3].IsKeyword(sql, "WHERE")))
                result.Add(n);
        }
    }

    /// <summary>The table named at token <paramref name="i"/> (optionally schema-qualified); <paramref name="i"/> moves past it.</summary>
    private static TableDefinition? TableAt(string sql, List<SqlToken> tokens, ref int i, Func<string, TableDefinition?> findTable)
    {
        if (i >= tokens.Count || tokens[i].Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)) return null;
        var name = tokens[i].FoldedIdentifier(sql)!;
        i++;
        if (i + 1 < tokens.Count && tokens[i].Kind == SqlTokenKind.Dot)
        {
            name = tokens[i + 1].FoldedIdentifier(sql) ?? name;
            i += 2;
        }
        return findTable(name);
    }

    private static HashSet<string> ArrayColumns(TableDefinition table) =>
        table.Columns.Where(c => c.Type == ColumnType.Utf8List).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);

    private static int? Parameter(string sql, SqlToken token) =>
        token.IsPositionalParameter(sql) && int.TryParse(sql.AsSpan(token.Start + 1, token.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}
