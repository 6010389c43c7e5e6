using TimeFusion.Sql;
using TimeFusion.Wire;
namespace TimeFusion.Query.Planning;

/// <summary>The parts of a DML statement's text.</summary>
internal sealed class DmlParts
{
    public required IReadOnlyList<string> TableName { get; init; }
    public string? Alias { get; init; }
    public string? Predicate { get; init; }
    public List<(string Column, string Expression)> Assignments { get; init; } = [];
    public List<string>? InsertColumns { get; init; }
    public string? ValuesText { get; init; }

    /// <summary>The table name as written (dotted).</summary>
    public string Written => string.Join('.', TableName);
}

/// <summary>
/// Cuts UPDATE / DELETE / INSERT … VALUES text into table, alias, SET assignments, WHERE predicate, column list
/// and VALUES rows with <see cref="SqlTokenizer"/> tokens (quotes, comments and parentheses respected). DuckDB has
/// already accepted the statement's syntax; each part is then parsed again by DuckDB on its own, so this only has
/// to find the boundaries. Forms we do not support are refused (0A000).
/// </summary>
internal static class DmlTextSplitter
{
    public static DmlParts SplitDelete(string sql)
    {
        var c = new Cursor(sql);
        c.Expect("DELETE");
        c.Expect("FROM");
        var name = c.QualifiedName();
        var alias = c.OptionalAlias("WHERE", "USING", "RETURNING");
        string? predicate = null;
        if (c.TakeKeyword("WHERE")) predicate = c.RestUntilTopLevel("RETURNING");
        c.RefuseRest("DELETE");
        return new DmlParts { TableName = name, Alias = alias, Predicate = predicate };
    }

    public static DmlParts SplitUpdate(string sql)
    {
        var c = new Cursor(sql);
        c.Expect("UPDATE");
        var name = c.QualifiedName();
        var alias = c.OptionalAlias("SET");
        c.Expect("SET");
        var assignments = new List<(string, string)>();
        while (true)
        {
            if (c.AtOpen) throw Unsupported("UPDATE … SET (a, b) = (…)");
            var column = c.Identifier("a column name after SET");
            if (c.AtDot) throw Unsupported("qualified column names in SET");
            c.ExpectOperator('=');
            var expression = c.ExpressionUntil(stopAtComma: true, "WHERE", "FROM", "RETURNING");
            if (expression.Length == 0) throw new SqlPlanningException(SqlState.SyntaxError, $"missing expression for column \"{column}\"");
            assignments.Add((column, expression));
            if (!c.TakeComma()) break;
        }
        if (c.IsKeyword("FROM")) throw Unsupported("UPDATE … FROM");
        string? predicate = null;
        if (c.TakeKeyword("WHERE")) predicate = c.RestUntilTopLevel("RETURNING");
        c.RefuseRest("UPDATE");
        return new DmlParts { TableName = name, Alias = alias, Predicate = predicate, Assignments = assignments };
    }

    public static DmlParts SplitInsert(string sql)
    {
        var c = new Cursor(sql);
        c.Expect("INSERT");
        if (c.IsKeyword("OR")) throw Unsupported("INSERT OR REPLACE / OR IGNORE");
        c.Expect("INTO");
        var name = c.QualifiedName();
        var alias = c.OptionalAlias("VALUES", "SELECT", "DEFAULT", "BY", "FROM", "WITH", "TABLE");
        if (alias is not null) throw Unsupported("an alias on the INSERT target");
        List<string>? columns = null;
        if (c.AtOpen)
        {
            c.Next();
            columns = [];
            while (true)
            {
                columns.Add(c.Identifier("a column name"));
                if (c.TakeComma()) continue;
                if (!c.AtClose) throw new SqlPlanningException(SqlState.SyntaxError, "syntax error in the INSERT column list");
                c.Next();
                break;
            }
        }
        if (!c.TakeKeyword("VALUES"))
            throw Unsupported("INSERT without VALUES (INSERT … SELECT, DEFAULT VALUES, BY NAME)");
        var values = c.RestUntilTopLevel("ON", "RETURNING");
        c.RefuseRest("INSERT");
        return new DmlParts { TableName = name, InsertColumns = columns, ValuesText = values };
    }

    private static SqlPlanningException Unsupported(string what) => new(SqlState.FeatureNotSupported, what + " is not supported");

    private sealed class Cursor(string sql)
    {
        private readonly List<SqlToken> _tokens = PlanningTokens.Tokenize(sql);
        private int _i;

        public bool AtEnd => _i >= _tokens.Count;
        public bool AtOpen => !AtEnd && _tokens[_i].Kind == SqlTokenKind.Open && sql[_tokens[_i].Start] == '(';
        public bool AtClose => !AtEnd && _tokens[_i].Kind == SqlTokenKind.Close && sql[_tokens[_i].Start] == ')';
        public bool AtDot => !AtEnd && _tokens[_i].Kind == SqlTokenKind.Dot;

        public void Next() => _i++;

        public bool IsKeyword(string keyword) => !AtEnd && _tokens[_i].IsKeyword(sql, keyword);

        public bool TakeKeyword(string keyword)
        {
            if (!IsKeyword(keyword)) return false;
            _i++;
            return true;
        }

        public void Expect(string keyword)
        {
            if (!TakeKeyword(keyword)) throw SyntaxError($"expected {keyword}");
        }

        public void ExpectOperator(char op)
        {
            if (AtEnd || !_tokens[_i].IsOperator(sql, op)) throw SyntaxError($"expected '{op}'");
            _i++;
        }

        public bool TakeComma()
        {
            if (AtEnd || _tokens[_i].Kind != SqlTokenKind.Comma) return false;
            _i++;
            return true;
        }

        public string Identifier(string what)
        {
            if (AtEnd || _tokens[_i].Identifier(sql) is not { } id) throw SyntaxError($"expected {what}");
            _i++;
            return id;
        }

        public List<string> QualifiedName()
        {
            var parts = new List<string> { Identifier("a table name") };
            while (AtDot)
            {
                _i++;
                parts.Add(Identifier("a name after '.'"));
            }
            return parts;
        }

        /// <summary><c>AS x</c>, or a bare word that is not one of the keywords that may follow.</summary>
        public string? OptionalAlias(params string[] following)
        {
            if (TakeKeyword("AS")) return Identifier("an alias after AS");
            if (AtEnd) return null;
            var t = _tokens[_i];
            if (t.Kind == SqlTokenKind.QuotedIdentifier || (t.Kind == SqlTokenKind.Word && !following.Any(k => t.IsKeyword(sql, k))))
            {
                _i++;
                return t.Identifier(sql);
            }
            return null;
        }

        /// <summary>Text from here to the first top-level comma (when asked) or stop keyword, or the end.</summary>
        public string ExpressionUntil(bool stopAtComma, params string[] stops)
        {
            var start = _i;
            var depth = 0;
            while (!AtEnd)
            {
                var t = _tokens[_i];
                if (t.Kind == SqlTokenKind.Open) depth++;
                else if (t.Kind == SqlTokenKind.Close) depth--;
                else if (depth == 0 && ((stopAtComma && t.Kind == SqlTokenKind.Comma) || stops.Any(k => t.IsKeyword(sql, k)))) break;
                if (depth < 0) throw SyntaxError("unbalanced parentheses");
                _i++;
            }
            if (_i == start) return "";
            return sql[_tokens[start].Start.._tokens[_i - 1].End];
        }

        public string RestUntilTopLevel(params string[] stops)
        {
            var text = ExpressionUntil(stopAtComma: false, stops);
            if (text.Length == 0) throw SyntaxError("syntax error");
            return text;
        }

        public void RefuseRest(string statement)
        {
            if (AtEnd) return;
            var t = _tokens[_i];
            if (t.IsKeyword(sql, "RETURNING")) throw Unsupported($"{statement} … RETURNING");
            if (t.IsKeyword(sql, "ON")) throw Unsupported($"{statement} … ON CONFLICT");
            if (t.IsKeyword(sql, "USING")) throw Unsupported($"{statement} … USING");
            throw SyntaxError($"syntax error at or near \"{t.Text(sql)}\"");
        }

        private SqlPlanningException SyntaxError(string message) => new(SqlState.SyntaxError,
            AtEnd ? message + " at end of input" : $"{message} at or near \"{_tokens[_i].Text(sql)}\"");
    }
}
