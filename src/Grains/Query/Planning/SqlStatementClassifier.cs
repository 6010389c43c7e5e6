using TimeFusion.Grains;
using TimeFusion.Sql;
using TimeFusion.Wire;
namespace TimeFusion.Query.Planning;

/// <summary>
/// Splits a SQL string into statements (semicolons inside literals, quoted identifiers and comments do not
/// split) and classifies each. SELECTs are parsed by DuckDB (<c>json_serialize_sql</c>) and DML/CREATE TABLE
/// syntax-checked by DuckDB's parser, so syntax errors surface here (42601), before anything runs; utility
/// statements are passed through unchecked (clients send PostgreSQL forms DuckDB does not parse).
/// </summary>
public sealed class SqlStatementClassifier
{
    private static readonly HashSet<string> SelectStarts = new(StringComparer.OrdinalIgnoreCase) { "SELECT", "VALUES", "FROM", "TABLE" };

    private static readonly HashSet<string> UtilityStarts = new(StringComparer.OrdinalIgnoreCase)
    {
        "SET", "RESET", "SHOW", "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE",
        "DISCARD", "DEALLOCATE", "DESCRIBE", "LISTEN", "UNLISTEN", "CLOSE",
    };

    private readonly SqlParser _parser;

    /// <summary>Creates a classifier over <paramref name="parser"/>.</summary>
    public SqlStatementClassifier(SqlParser parser) => _parser = parser ?? throw new ArgumentNullException(nameof(parser));

    /// <summary>
    /// Splits and classifies every statement of <paramref name="sql"/>. All are checked before any is returned, so
    /// a syntax error anywhere rejects the whole string (as PostgreSQL's simple query protocol does).
    /// </summary>
    /// <exception cref="SqlPlanningException">42601 for syntax errors (DuckDB's message); 0A000 for SELECT forms DuckDB cannot serialize.</exception>
    public IReadOnlyList<ClassifiedStatement> Classify(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var statements = PlanningTokens.SplitStatements(sql);
        return _parser.Use(session => statements.Select(s => ClassifyOne(session, s)).ToList());
    }

    /// <summary>
    /// Checks a statement a front end split off and classified itself (<see cref="ClassifiedStatement"/>) before it is
    /// run: its text must lex and hold exactly one statement. It is not classified again; the analyzers refuse text
    /// that is not a statement of its kind.
    /// </summary>
    /// <exception cref="SqlPlanningException">42601: a lexing error, no statement, or more than one.</exception>
    public static void RequireOneStatement(ClassifiedStatement statement)
    {
        ArgumentNullException.ThrowIfNull(statement);
        PlanningTokens.RequireOneStatement(statement.Sql);
    }

    private static ClassifiedStatement ClassifyOne(ParserSession session, string sql)
    {
        var tokens = PlanningTokens.Tokenize(sql);
        var first = tokens[0];
        if (first.Kind == SqlTokenKind.Open && sql[first.Start] == '(')
        {
            session.Serialize(sql);
            return new ClassifiedStatement(StatementKind.Select, sql, "(");
        }
        if (first.Kind != SqlTokenKind.Word)
            throw new SqlPlanningException(SqlState.SyntaxError, $"syntax error at or near \"{first.Text(sql)}\"");
        var keyword = first.Text(sql).ToUpperInvariant();
        if (SelectStarts.Contains(keyword))
        {
            session.Serialize(sql);
            return new ClassifiedStatement(StatementKind.Select, sql, keyword);
        }
        switch (keyword)
        {
            case "WITH":
                return new ClassifiedStatement(ClassifyWith(session, sql, tokens), sql, keyword);
            case "INSERT":
                return Checked(session, StatementKind.Insert, sql, keyword);
            case "UPDATE":
                return Checked(session, StatementKind.Update, sql, keyword);
            case "DELETE":
                return Checked(session, StatementKind.Delete, sql, keyword);
            case "CREATE":
                return Checked(session, IsCreateTable(sql, tokens) ? StatementKind.CreateTable : StatementKind.Other, sql, keyword);
            case "FLUSH":
                return new ClassifiedStatement(StatementKind.Flush, sql, keyword) { FlushTable = FlushTarget(sql, tokens) };
            case "COPY":
                return new ClassifiedStatement(StatementKind.Copy, sql, keyword);
            case "OPTIMIZE":
                return new ClassifiedStatement(StatementKind.Optimize, sql, keyword);
            case "VACUUM":
                return new ClassifiedStatement(StatementKind.Vacuum, sql, keyword);
            case "DROP" or "TRUNCATE" or "EXPLAIN":
                // PostgreSQL forms DuckDB's parser may not take (EXPLAIN (ANALYZE, COSTS off), TRUNCATE … RESTART
                // IDENTITY): the gateway's DdlStatementParser reads them, and plans EXPLAIN's statement as any query.
                return new ClassifiedStatement(StatementKind.Other, sql, keyword);
            case "ALTER" when Statements.MaintenanceStatementParser.IsAlterTableOptions(sql, tokens):
                return new ClassifiedStatement(StatementKind.AlterTable, sql, keyword);
            case "ALTER":
                // ADD COLUMN … NOT NULL is a parser error in DuckDB but a refusal naming the construct (0A000) here:
                // the gateway's DdlStatementParser reads every ALTER.
                return new ClassifiedStatement(StatementKind.Other, sql, keyword);
        }
        // Utility statements come in PostgreSQL forms DuckDB may not parse: pass them through. Anything else must at
        // least parse (a misspelt keyword is a syntax error, not an unsupported statement).
        return UtilityStarts.Contains(keyword)
            ? new ClassifiedStatement(StatementKind.Utility, sql, keyword)
            : Checked(session, StatementKind.Other, sql, keyword);
    }

    private static ClassifiedStatement Checked(ParserSession session, StatementKind kind, string sql, string keyword)
    {
        if (session.SyntaxError(sql) is { } error) throw new SqlPlanningException(SqlState.SyntaxError, error);
        return new ClassifiedStatement(kind, sql, keyword);
    }

    /// <summary>WITH … SELECT is a query; WITH … INSERT/UPDATE/DELETE is that DML (its analyzer refuses the CTE).</summary>
    private static StatementKind ClassifyWith(ParserSession session, string sql, List<SqlToken> tokens)
    {
        try
        {
            session.Serialize(sql);
            return StatementKind.Select;
        }
        catch (SqlPlanningException e) when (e.SqlState == SqlState.FeatureNotSupported)
        {
            // Parsed, but not as a SELECT: find the statement keyword after the CTE list (outside parentheses).
        }
        if (session.SyntaxError(sql) is { } error) throw new SqlPlanningException(SqlState.SyntaxError, error);
        var depth = 0;
        foreach (var t in tokens)
        {
            if (t.Kind == SqlTokenKind.Open) depth++;
            else if (t.Kind == SqlTokenKind.Close) depth--;
            else if (depth == 0 && t.IsKeyword(sql, "INSERT")) return StatementKind.Insert;
            else if (depth == 0 && t.IsKeyword(sql, "UPDATE")) return StatementKind.Update;
            else if (depth == 0 && t.IsKeyword(sql, "DELETE")) return StatementKind.Delete;
        }
        return StatementKind.Other;
    }

    private static bool IsCreateTable(string sql, List<SqlToken> tokens)
    {
        var i = 1;
        if (i + 1 < tokens.Count && tokens[i].IsKeyword(sql, "OR") && tokens[i + 1].IsKeyword(sql, "REPLACE")) i += 2;
        while (i < tokens.Count && (tokens[i].IsKeyword(sql, "TEMP") || tokens[i].IsKeyword(sql, "TEMPORARY")
            || tokens[i].IsKeyword(sql, "UNLOGGED") || tokens[i].IsKeyword(sql, "GLOBAL") || tokens[i].IsKeyword(sql, "LOCAL")))
            i++;
        return i < tokens.Count && tokens[i].IsKeyword(sql, "TABLE");
    }

    /// <summary><c>FLUSH</c>, <c>FLUSH t</c>, <c>FLUSH TABLE t</c>, <c>FLUSH public."T"</c>.</summary>
    private static string? FlushTarget(string sql, List<SqlToken> tokens)
    {
        var i = 1;
        if (i < tokens.Count && tokens[i].IsKeyword(sql, "TABLE") && i + 1 < tokens.Count) i++;
        if (i == tokens.Count) return null;
        var parts = new List<string>();
        while (true)
        {
            if (i >= tokens.Count || tokens[i].Identifier(sql) is not { } part)
                throw new SqlPlanningException(SqlState.SyntaxError, i < tokens.Count
                    ? $"syntax error at or near \"{tokens[i].Text(sql)}\": FLUSH takes an optional table name"
                    : "syntax error at end of input: FLUSH takes an optional table name");
            parts.Add(part);
            i++;
            if (i == tokens.Count) break;
            if (tokens[i].Kind != SqlTokenKind.Dot)
                throw new SqlPlanningException(SqlState.SyntaxError, $"syntax error at or near \"{tokens[i].Text(sql)}\": FLUSH takes an optional table name");
            i++;
        }
        if (parts.Count > 2 || (parts.Count == 2 && parts[0].ToLowerInvariant() is not ("public" or "main")))
            throw new SqlPlanningException(SqlState.UndefinedTable, $"relation \"{string.Join('.', parts)}\" does not exist");
        return parts[^1];
    }
}
