using TimeFusion.Grains;
using TimeFusion.Query.Statements;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Sql;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// Transaction blocks at the session: <c>BEGIN</c> opens a <see cref="TransactionBlock"/> that holds the block's INSERTs
/// (and COPYs) and UPDATE/DELETEs until <c>COMMIT</c> sends them, each (project, table)'s part as one WAL transaction;
/// <c>ROLLBACK</c> and a dropped connection drop them. Reads inside a block see the committed state, not the block's own
/// held writes. UPDATE and DELETE are checked when issued and held in statement order among the inserts: COMMIT runs
/// each after the writes held before it. DDL and maintenance statements are refused in a block (25001), since they
/// could not be undone.
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
                            // Not cancellable: the outcome of a COMMIT that has started is reported, never abandoned.
                            await block.CommitAsync(statements => Gateway.CommitBlockAsync(statements, SessionCaller, CancellationToken.None));
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
            case "UPDATE" or "DELETE":
            {
                open.RequireWritable(keyword);
                var statement = new ClassifiedStatement(keyword == "UPDATE" ? StatementKind.Update : StatementKind.Delete, sql, keyword);
                var caller = SessionCaller;
                var matched = await Call(() => CheckHeldDmlAsync(statement, caller, cancellationToken), cancellationToken);
                open.HoldDml(statement, caller);
                return StatementResult.Affected(keyword, matched);
            }
            case "MERGE":
                open.RequireWritable(keyword);
                throw new PostgresErrorException(SqlState.FeatureNotSupported, "MERGE is not supported");
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

    /// <summary>
    /// Checks an UPDATE or DELETE of a block when it is issued, so that an error fails the block there (as in PostgreSQL),
    /// not at COMMIT: the gateway plans it as EXPLAIN does (table, columns, SET targets, the caller's projects) and counts
    /// the committed rows its WHERE matches now, which is the count the statement answers (the block's own held INSERTs
    /// are not counted: they are not written yet).
    /// </summary>
    private async Task<long> CheckHeldDmlAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken)
    {
        await Gateway.QueryAsync("EXPLAIN " + statement.Sql, caller, cancellationToken);
        var count = DmlCountQuery.Of(statement.Sql, statement.Kind == StatementKind.Update);
        var result = await Gateway.QueryStatementAsync(new ClassifiedStatement(StatementKind.Select, count, "SELECT"), caller, cancellationToken);
        long matched = 0;
        foreach (var batch in result.Batches)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                matched += batch.Column(0) switch
                {
                    Apache.Arrow.Int64Array a => a.GetValue(i) ?? 0,
                    Apache.Arrow.Int32Array a => a.GetValue(i) ?? 0,
                    Apache.Arrow.UInt64Array a => (long)(a.GetValue(i) ?? 0),
                    _ => 0,
                };
            }
        }
        return matched;
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
