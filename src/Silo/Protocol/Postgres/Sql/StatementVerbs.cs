using TimeFusion.Sql;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Sql;

/// <summary>
/// The first keywords a statement may start with (PostgreSQL's and DuckDB's): a Parse of anything else fails at once
/// with 42601, as PostgreSQL's parser does, instead of at Execute.
/// </summary>
internal static class StatementVerbs
{
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        // PostgreSQL
        "ABORT", "ALTER", "ANALYZE", "ANALYSE", "BEGIN", "CALL", "CHECKPOINT", "CLOSE", "CLUSTER", "COMMENT", "COMMIT", "COPY",
        "CREATE", "DEALLOCATE", "DECLARE", "DELETE", "DISCARD", "DO", "DROP", "END", "EXECUTE", "EXPLAIN", "FETCH", "GRANT",
        "IMPORT", "INSERT", "LISTEN", "LOAD", "LOCK", "MERGE", "MOVE", "NOTIFY", "PREPARE", "REASSIGN", "REFRESH", "REINDEX",
        "RELEASE", "RESET", "REVOKE", "ROLLBACK", "SAVEPOINT", "SECURITY", "SELECT", "SET", "SHOW", "START", "TABLE",
        "TRUNCATE", "UNLISTEN", "UPDATE", "VACUUM", "VALUES", "WITH",
        // TimeFusion's own and DuckDB's (refused later with their own messages)
        "FLUSH", "OPTIMIZE", "FROM", "ATTACH", "DETACH", "PRAGMA", "INSTALL", "EXPORT", "USE", "DESCRIBE", "SUMMARIZE",
        "PIVOT", "UNPIVOT", "FORCE", "UPDATE_EXTENSIONS",
    };

    /// <summary>Throws 42601 when the statement starts with a word no statement starts with.</summary>
    public static void RequireKnown(ClassifiedStatement statement)
    {
        if (statement.Kind != StatementKind.Other || statement.Verb is "" or "(" || Known.Contains(statement.Verb))
        {
            return;
        }
        var pos = 0;
        SqlTokenizer.Next(statement.Sql, ref pos, SqlTokenizerMode.Lenient, out var first);
        throw new PostgresErrorException(SqlState.SyntaxError, $"syntax error at or near \"{first.Text(statement.Sql)}\"") { Position = first.Start + 1 };
    }
}
