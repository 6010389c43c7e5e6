using TimeFusion.Tables;
using TimeFusion.Query.Planning;
using TimeFusion.Wire;

namespace TimeFusion.Query.Statements;

/// <summary><c>DROP TABLE [IF EXISTS] t [, …] [CASCADE | RESTRICT]</c>.</summary>
public sealed record DropTableStatement(IReadOnlyList<string> Tables, bool IfExists);

/// <summary><c>TRUNCATE [TABLE] [ONLY] t [, …] [RESTART | CONTINUE IDENTITY] [CASCADE | RESTRICT]</c>.</summary>
public sealed record TruncateStatement(IReadOnlyList<string> Tables);

/// <summary><c>ALTER TABLE [IF EXISTS] t ADD [COLUMN] [IF NOT EXISTS] c type</c>: the column is always nullable.</summary>
public sealed record AddColumnStatement(string Table, ColumnDefinition Column, bool IfTableExists, bool IfColumnNotExists);

/// <summary><c>EXPLAIN [ANALYZE] [VERBOSE] query</c> or <c>EXPLAIN (option [value], …) query</c>.</summary>
public sealed record ExplainStatement(bool Analyze, string Query);

/// <summary>
/// Reads the DDL statements TimeFusion runs itself (DROP TABLE, TRUNCATE, EXPLAIN, CREATE TABLE IF NOT EXISTS, ALTER TABLE … ADD COLUMN) and
/// refuses, naming the construct (0A000), the forms it does not support (other DROPs, ALTER TABLE … RENAME / DROP COLUMN / ALTER COLUMN …).
/// </summary>
public static class DdlStatementParser
{
    /// <summary>Reads a DROP statement; only DROP TABLE is supported.</summary>
    /// <exception cref="SqlPlanningException">0A000 another DROP; 42601 syntax.</exception>
    public static DropTableStatement ParseDrop(string sql)
    {
        var r = new MaintenanceStatementParser.Reader(sql, "DROP");
        if (!r.TryKeyword("TABLE"))
            throw new SqlPlanningException(SqlState.FeatureNotSupported, $"DROP {r.Peek?.ToUpperInvariant()} is not supported: TimeFusion has tables only");
        var ifExists = r.TryKeyword("IF");
        if (ifExists) r.Expect("EXISTS");
        var tables = TableList(r);
        if (!r.TryKeyword("RESTRICT")) r.TryKeyword("CASCADE");
        r.ExpectEnd();
        return new DropTableStatement(tables, ifExists);
    }

    /// <summary>Reads a TRUNCATE statement.</summary>
    public static TruncateStatement ParseTruncate(string sql)
    {
        var r = new MaintenanceStatementParser.Reader(sql, "TRUNCATE");
        r.TryKeyword("TABLE");
        r.TryKeyword("ONLY");
        var tables = TableList(r);
        if (r.TryKeyword("RESTART") || r.TryKeyword("CONTINUE")) r.Expect("IDENTITY");
        if (!r.TryKeyword("RESTRICT")) r.TryKeyword("CASCADE");
        r.ExpectEnd();
        return new TruncateStatement(tables);
    }

    /// <summary>Reads EXPLAIN's options and the statement it explains.</summary>
    public static ExplainStatement ParseExplain(string sql)
    {
        var r = new MaintenanceStatementParser.Reader(sql, "EXPLAIN");
        var analyze = false;
        if (r.TrySymbol('('))
        {
            // EXPLAIN (ANALYZE [true|false|on|off], VERBOSE, COSTS off, FORMAT TEXT, …): only ANALYZE changes what we print.
            while (!r.TrySymbol(')'))
            {
                var option = r.Identifier();
                var value = r.Peek is { } next && next != "," && next != ")" ? r.Identifier() : "true";
                if (option == "analyze") analyze = value is "true" or "on" or "1";
                else if (option == "format" && value != "text")
                    throw new SqlPlanningException(SqlState.FeatureNotSupported, $"EXPLAIN (FORMAT {value.ToUpperInvariant()}) is not supported: TimeFusion prints plans as text");
                r.TrySymbol(',');
            }
        }
        else
        {
            analyze = r.TryKeyword("ANALYZE") || r.TryKeyword("ANALYSE");
            r.TryKeyword("VERBOSE");
        }
        var query = sql[r.Position..].Trim().TrimEnd(';').Trim();
        if (query.Length == 0) throw new SqlPlanningException(SqlState.SyntaxError, "syntax error at end of input: EXPLAIN expected a statement");
        return new ExplainStatement(analyze, query);
    }

    /// <summary>Whether a CREATE TABLE statement says IF NOT EXISTS.</summary>
    public static bool IsCreateIfNotExists(string sql)
    {
        var tokens = PlanningTokens.Tokenize(sql);
        for (var i = 0; i + 2 < tokens.Count && i < 8; i++)
        {
            if (tokens[i].IsKeyword(sql, "IF") && tokens[i + 1].IsKeyword(sql, "NOT") && tokens[i + 2].IsKeyword(sql, "EXISTS")) return true;
        }
        return false;
    }

    /// <summary>
    /// Reads <c>ALTER TABLE [IF EXISTS] [ONLY] t ADD [COLUMN] [IF NOT EXISTS] c type [NULL]</c>, the one ALTER besides
    /// retention that TimeFusion runs; every other ALTER is refused with 0A000 naming it.
    /// </summary>
    /// <exception cref="SqlPlanningException">
    /// 0A000 another ALTER, or a column TimeFusion cannot add (NOT NULL, a DEFAULT, a constraint, an unsupported type);
    /// 42601 syntax.
    /// </exception>
    public static AddColumnStatement ParseAlter(string sql)
    {
        var r = new MaintenanceStatementParser.Reader(sql, "ALTER");
        if (!r.TryKeyword("TABLE"))
            throw new SqlPlanningException(SqlState.FeatureNotSupported, $"ALTER {r.Peek?.ToUpperInvariant()} is not supported: TimeFusion has tables only");
        var ifExists = r.TryKeyword("IF");
        if (ifExists) r.Expect("EXISTS");
        r.TryKeyword("ONLY");
        var table = r.TableName();
        var action = r.Peek?.ToUpperInvariant();
        if (action != "ADD") throw Refusal(table, action);
        r.Expect("ADD");
        if (r.Peek?.ToUpperInvariant() is "CONSTRAINT" or "PRIMARY" or "UNIQUE" or "CHECK" or "FOREIGN")
            throw new SqlPlanningException(SqlState.FeatureNotSupported, $"ALTER TABLE {table} ADD {r.Peek?.ToUpperInvariant()} is not supported: TimeFusion tables have no constraints");
        r.TryKeyword("COLUMN");
        var ifNotExists = r.TryKeyword("IF");
        if (ifNotExists) { r.Expect("NOT"); r.Expect("EXISTS"); }
        var column = r.Identifier();
        var definition = sql[r.Position..].Trim().TrimEnd(';').Trim();
        if (definition.Length == 0) throw new SqlPlanningException(SqlState.SyntaxError, $"syntax error at end of input: ALTER TABLE … ADD COLUMN {column} expected a type");
        var tokens = PlanningTokens.Tokenize(definition);
        foreach (var keyword in (string[])["DEFAULT", "PRIMARY", "UNIQUE", "CHECK", "REFERENCES", "GENERATED", "COLLATE"])
        {
            if (tokens.Any(t => t.IsKeyword(definition, keyword)))
                throw new SqlPlanningException(SqlState.FeatureNotSupported,
                    $"ALTER TABLE {table} ADD COLUMN {column} … {keyword} is not supported: an added column is nullable, and rows stored before it read NULL");
        }
        // The type (and NULL / NOT NULL) are read by DuckDB's own parser, exactly as CREATE TABLE reads them.
        var parsed = CreateTableParser.Parse($"CREATE TABLE t ({SqlNames.Quote(column)} {definition})");
        if (parsed.Columns.Count != 1) throw new SqlPlanningException(SqlState.SyntaxError, $"ALTER TABLE {table} ADD COLUMN adds one column at a time");
        var added = parsed.Columns[0];
        if (!added.Nullable)
            throw new SqlPlanningException(SqlState.FeatureNotSupported,
                $"ALTER TABLE {table} ADD COLUMN {column} NOT NULL is not supported: rows stored before the column have no value for it; add it as a nullable column");
        return new AddColumnStatement(table, added, ifExists, ifNotExists);
    }

    private static SqlPlanningException Refusal(string table, string? action) => action switch
    {
        "RENAME" => new SqlPlanningException(SqlState.FeatureNotSupported,
            $"ALTER TABLE {table} RENAME is not supported: a TimeFusion table's WAL and Delta files are named by its table and column names"),
        "DROP" => new SqlPlanningException(SqlState.FeatureNotSupported, $"ALTER TABLE {table} DROP COLUMN is not supported"),
        "ALTER" => new SqlPlanningException(SqlState.FeatureNotSupported, $"ALTER TABLE {table} ALTER COLUMN is not supported (no column type or default changes)"),
        _ => new SqlPlanningException(SqlState.FeatureNotSupported,
            $"ALTER TABLE {table} {action} is not supported: only ALTER TABLE t ADD COLUMN c type and ALTER TABLE t SET (retention = '…' [, project = '…'])"),
    };

    private static List<string> TableList(MaintenanceStatementParser.Reader r)
    {
        var tables = new List<string> { r.TableName() };
        while (r.TrySymbol(',')) tables.Add(r.TableName());
        return tables;
    }
}
