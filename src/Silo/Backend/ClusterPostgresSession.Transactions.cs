using TimeFusion.Grains;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Sql;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// Transaction blocks at the session (no engine transaction is needed): <c>BEGIN</c> opens a <see cref="TransactionBlock"/>
/// that holds the block's INSERTs (and COPYs) until <c>COMMIT</c> sends them, one atomic batch per (project, table);
/// <c>ROLLBACK</c> and a dropped connection drop them. Reads inside a block see the committed state, not the block's own
/// held inserts. UPDATE and DELETE are refused inside a block (0A000): they could not be ordered among held inserts.
/// DDL and maintenance statements are refused there too (25001), since they could not be undone.
/// </summary>
internal sealed partial class ClusterPostgresSession
{
    private TransactionBlock? _block;

    /// <summary>The result of a transaction statement, or of a write inside a block; null when the statement runs as usual.</summary>
    private async ValueTask<StatementResult?> TransactionStatementAsync(string keyword, string sql, CancellationToken cancellationToken)
    {
        switch (keyword)
        {
            case "BEGIN" or "START":
                // A BEGIN inside a block is a no-op (PostgreSQL warns and carries on).
                _block ??= new TransactionBlock(maxCopyBytes) { ReadOnly = HasWords(sql, "READ", "ONLY") };
                return StatementResult.Command(keyword == "START" ? "START TRANSACTION" : "BEGIN");
            case "COMMIT" or "END":
            {
                if (HasWords(sql, "PREPARED")) throw TwoPhaseUnsupported();
                var block = _block;
                _block = null;
                if (block is not null)
                {
                    // The block ends whether or not COMMIT succeeds, as in PostgreSQL.
                    using (block)
                    {
                        await Call(async () =>
                        {
                            await block.CommitAsync((project, table, rows) => Gateway.InsertAsync(project, table, rows, SessionCaller),
                                (table, rows) => Gateway.InsertRoutedAsync(table, rows, SessionCaller));
                            return 0L;
                        }, cancellationToken);
                    }
                }
                return StatementResult.Command("COMMIT");
            }
            case "ROLLBACK" or "ABORT":
                if (HasWords(sql, "TO")) throw SavepointUnsupported();
                if (HasWords(sql, "PREPARED")) throw TwoPhaseUnsupported();
                _block?.Dispose();
                _block = null;
                return StatementResult.Command("ROLLBACK");
            case "SAVEPOINT" or "RELEASE":
                throw SavepointUnsupported();
            case "PREPARE" when HasWords(sql, "TRANSACTION"):
                throw TwoPhaseUnsupported();
            case "SET" when HasWords(sql, "TRANSACTION") || HasWords(sql, "SESSION", "CHARACTERISTICS"):
                // SET TRANSACTION ISOLATION LEVEL … / READ ONLY: every level behaves as READ COMMITTED here.
                if (_block is not null && HasWords(sql, "READ", "ONLY") && !HasWords(sql, "SESSION", "CHARACTERISTICS")) _block.ReadOnly = true;
                return StatementResult.Command("SET");
        }
        if (_block is not { } open) return null;
        switch (keyword)
        {
            case "INSERT":
            {
                open.RequireWritable("INSERT");
                var rows = await Call(() => Gateway.EvaluateInsertAsync(new ClassifiedStatement(StatementKind.Insert, sql, keyword), SessionCaller, cancellationToken), cancellationToken);
                return StatementResult.Affected("INSERT", open.Hold(rows));
            }
            case "UPDATE" or "DELETE" or "MERGE":
                open.RequireWritable(keyword);
                throw new PostgresErrorException(SqlState.FeatureNotSupported,
                    $"{keyword} inside a transaction block is not supported: TimeFusion holds a block's INSERTs until COMMIT and cannot order {keyword} among them")
                {
                    Hint = $"run {keyword} outside a transaction block",
                };
            case "CREATE" or "ALTER" or "DROP" or "TRUNCATE" or "FLUSH" or "OPTIMIZE" or "VACUUM" or "GRANT" or "REVOKE" or "COMMENT":
                open.RequireWritable(keyword);
                throw new PostgresErrorException(SqlState.ActiveSqlTransaction, $"{keyword} cannot run inside a transaction block")
                {
                    Hint = "TimeFusion transaction blocks hold INSERTs only; run it outside the block",
                };
            default:
                return null;
        }
    }

    private static PostgresErrorException SavepointUnsupported() => new(SqlState.FeatureNotSupported,
        "savepoints are not supported: a TimeFusion transaction block commits or rolls back as a whole");

    private static PostgresErrorException TwoPhaseUnsupported() => new(SqlState.FeatureNotSupported, "prepared transactions (two-phase commit) are not supported");

    /// <summary>Whether <paramref name="sql"/> has the keywords <paramref name="words"/> one after the other.</summary>
    private static bool HasWords(string sql, params string[] words)
    {
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient).Where(t => t.Kind == SqlTokenKind.Word).ToList();
        for (var i = 0; i + words.Length <= tokens.Count; i++)
        {
            var all = true;
            for (var j = 0; all && j < words.Length; j++) all = tokens[i + j].IsKeyword(sql, words[j]);
            if (all) return true;
        }
        return false;
    }
}
