using TimeFusion.Silo.Protocol.Postgres.Session;
using TimeFusion.Silo.Protocol.Postgres.Sql;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Sql;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Connection;

internal sealed partial class PostgresConnection
{
    /// <summary>A Query message: every statement in turn; the first error stops the rest.</summary>
    private async Task SimpleQueryAsync(FrontendMessage message)
    {
        string sql;
        try
        {
            var reader = new PgBodyReader(message.Body);
            sql = reader.ReadCString();
        }
        catch (PostgresErrorException e)
        {
            await ReportErrorAsync(e, null, extended: false).ConfigureAwait(false);
            WriteReadyForQuery();
            await FlushAsync().ConfigureAwait(false);
            return;
        }
        // pg_stat_activity shows the whole query string, as PostgreSQL does for a multi-statement query.
        BeginActivity(sql);
        var statements = SqlTokenizer.SplitStatements(sql, SqlTokenizerMode.Lenient);
        if (statements.Count == 0)
        {
            _out.WriteEmptyMessage((byte)'I');
        }
        var classified = statements.Select(StatementClassifier.Classify).ToList();
        // Several statements outside a block are one implicit transaction, as in PostgreSQL: their INSERTs land
        // together at the end or not at all.
        var implicitBlock = classified.Count > 1 && _txStatus == TxIdle && TransactionVerbs.CanRunImplicitly(classified);
        var failed = false;
        if (implicitBlock)
        {
            failed = !await ImplicitTransactionStatementAsync("BEGIN").ConfigureAwait(false);
        }
        foreach (var statement in failed ? [] : classified)
        {
            using var cancellation = new StatementCancellation(_stopping);
            cancellation.StartTimer(_settings.StatementTimeout);
            try
            {
                ThrowIfTransactionAborted(statement);
                await ExecuteStatementAsync(statement, [], rowsBinary: null, cancellation).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not ClientGoneException)
            {
                await ReportErrorAsync(e, cancellation, extended: false).ConfigureAwait(false);
                failed = true;
                break;
            }
        }
        if (implicitBlock)
        {
            await ImplicitTransactionStatementAsync(failed ? "ROLLBACK" : "COMMIT").ConfigureAwait(false);
        }
        // A simple query is its own unit of work: portals do not outlive it outside a transaction block, nor do cursors
        // declared without HOLD.
        if (_txStatus == TxIdle)
        {
            await ClosePortalsAsync().ConfigureAwait(false);
            await CloseCursorsAsync(c => !c.Hold).ConfigureAwait(false);
        }
        WriteReadyForQuery();
        await FlushAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// BEGIN, COMMIT or ROLLBACK of an implicit transaction, sent to the backend without a reply of its own; a failure is
    /// reported as the query's error. Returns whether it succeeded.
    /// </summary>
    private async Task<bool> ImplicitTransactionStatementAsync(string verb)
    {
        using var cancellation = new StatementCancellation(_stopping);
        try
        {
            await RunImplicitTransactionStatementAsync(verb, cancellation).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is not ClientGoneException)
        {
            await ReportErrorAsync(e, cancellation, extended: false).ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>BEGIN, COMMIT or ROLLBACK of an implicit transaction, sent to the backend without a reply of its own.</summary>
    private async Task RunImplicitTransactionStatementAsync(string verb, StatementCancellation cancellation)
    {
        cancellation.StartTimer(_settings.StatementTimeout);
        var session = _session!;
        var result = await RunAsync(cancellation, ct => session.ExecuteAsync(new BackendStatement(verb, verb), [], ct)).ConfigureAwait(false);
        await result.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one statement of a simple query to completion: RowDescription (text formats), rows and
    /// CommandComplete, or the protocol layer's own handling (SET, SHOW, COPY, …).
    /// </summary>
    private async Task ExecuteStatementAsync(ClassifiedStatement statement, IReadOnlyList<object?> parameters, Func<int, bool>? rowsBinary,
        StatementCancellation cancellation)
    {
        switch (statement.Kind)
        {
            case StatementKind.Empty:
                _out.WriteEmptyMessage((byte)'I');
                return;
            case StatementKind.Set when SessionSettings.Handles(statement.Name!):
                ApplySet(statement.Name!, statement.Value);
                _out.WriteCommandComplete("SET");
                return;
            case StatementKind.Reset when statement.Name == "all":
                foreach (var changed in _settings.ResetAll())
                {
                    _out.WriteParameterStatus(changed, _settings.Show(changed));
                }
                _out.WriteCommandComplete("RESET");
                return;
            case StatementKind.Reset when SessionSettings.Handles(statement.Name!):
                ApplySet(statement.Name!, null);
                _out.WriteCommandComplete("RESET");
                return;
            case StatementKind.Show when statement.Name == "all" || SessionSettings.Handles(statement.Name!):
                WriteShow(statement.Name!, rowsBinary, describe: true);
                return;
            case StatementKind.DiscardAll:
                if (_txStatus != TxIdle)
                {
                    throw new PostgresErrorException(SqlState.ActiveSqlTransaction, "DISCARD ALL cannot run inside a transaction block");
                }
                await DiscardAllAsync().ConfigureAwait(false);
                _out.WriteCommandComplete("DISCARD ALL");
                return;
            case StatementKind.Deallocate:
                Deallocate(statement.Name!);
                _out.WriteCommandComplete(statement.Name == "all" ? "DEALLOCATE ALL" : "DEALLOCATE");
                return;
            case StatementKind.CopyFromStdin:
                await CopyInAsync(statement.Copy!, cancellation).ConfigureAwait(false);
                return;
            case StatementKind.CopyToStdout:
                await CopyOutAsync(statement.Copy!, cancellation).ConfigureAwait(false);
                return;
            case StatementKind.Prepare:
                PrepareSql(statement);
                _out.WriteCommandComplete("PREPARE");
                return;
            case StatementKind.ExecutePrepared:
            {
                var (prepared, arguments) = ResolveExecute(statement);
                await ExecuteStatementAsync(prepared.Statement, arguments, rowsBinary, cancellation).ConfigureAwait(false);
                return;
            }
            case StatementKind.DeclareCursor:
                await DeclareCursorAsync(statement, parameters).ConfigureAwait(false);
                _out.WriteCommandComplete("DECLARE CURSOR");
                return;
            case StatementKind.Fetch:
                await FetchAsync(statement, rowsBinary, describe: true).ConfigureAwait(false);
                return;
            case StatementKind.CloseCursor:
                await CloseCursorAsync(statement.Name!).ConfigureAwait(false);
                _out.WriteCommandComplete("CLOSE CURSOR");
                return;
            case StatementKind.Acknowledge:
                _out.WriteCommandComplete(statement.Name!);
                return;
            case StatementKind.SetSessionAuthorization:
                // Only a superuser may become another user in PostgreSQL; here nobody may. Becoming oneself (or DEFAULT,
                // which is the session's user) changes nothing.
                if (statement.Value is { } target && !string.Equals(target, _user?.Name, StringComparison.Ordinal))
                    throw new PostgresErrorException(SqlState.InsufficientPrivilege, "permission denied to set session authorization");
                _out.WriteCommandComplete("SET");
                return;
        }
        var session = _session!;
        var backend = BackendFor(statement);
        var result = await RunAsync(cancellation, ct => session.ExecuteAsync(backend, parameters, ct)).ConfigureAwait(false);
        if (!result.HasRows)
        {
            await result.DisposeAsync().ConfigureAwait(false);
            var tag = result.CommandTag ?? statement.Verb;
            _out.WriteCommandComplete(tag);
            UpdateTransactionStatus(tag);
            return;
        }
        RowStream rows;
        try
        {
            var encoders = CreateEncoders(result.Schema!, rowsBinary ?? (_ => false));
            _out.WriteRowDescription(encoders, ColumnNames(result.Schema!));
            rows = new RowStream(result, encoders, cancellation.Token);
        }
        catch
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        await using (rows.ConfigureAwait(false))
        {
            var (count, _) = await SendRowsAsync(rows, 0, cancellation).ConfigureAwait(false);
            _out.WriteCommandComplete($"{result.RowsVerb} {count}");
        }
    }

    private void ApplySet(string name, string? value)
    {
        var canonical = _settings.Set(name, value);
        if (SessionSettings.IsReported(canonical))
        {
            _out.WriteParameterStatus(canonical, _settings.Show(canonical));
        }
    }

    /// <summary>SHOW name / SHOW ALL: RowDescription (when <paramref name="describe"/>), rows, CommandComplete.</summary>
    private void WriteShow(string name, Func<int, bool>? binary, bool describe)
    {
        if (name == "all")
        {
            if (describe)
            {
                _out.WriteRowDescription(["name", "setting", "description"], [PgType.Text, PgType.Text, PgType.Text], i => binary?.Invoke(i) ?? false);
            }
            var count = 0;
            foreach (var (key, value) in _settings.All())
            {
                _out.WriteTextRow(key, value, "");
                count++;
            }
            _out.WriteCommandComplete("SHOW");
            return;
        }
        var shown = _settings.Show(name);
        if (describe)
        {
            _out.WriteRowDescription([name.ToLowerInvariant()], [PgType.Text], i => binary?.Invoke(i) ?? false);
        }
        _out.WriteTextRow(shown);
        _out.WriteCommandComplete("SHOW");
    }

    private async Task DiscardAllAsync()
    {
        await ClosePortalsAsync().ConfigureAwait(false);
        await CloseCursorsAsync(_ => true).ConfigureAwait(false);
        _statements.Clear();
        foreach (var changed in _settings.ResetAll())
        {
            _out.WriteParameterStatus(changed, _settings.Show(changed));
        }
    }

    private void Deallocate(string name)
    {
        if (name == "all")
        {
            _statements.Clear();
            return;
        }
        if (!_statements.Remove(name))
        {
            throw new PostgresErrorException(SqlState.InvalidSqlStatementName, $"prepared statement \"{name}\" does not exist");
        }
    }

    private async Task ClosePortalsAsync()
    {
        foreach (var portal in _portals.Values)
        {
            await DisposeQuietlyAsync(portal).ConfigureAwait(false);
        }
        _portals.Clear();
    }
}
