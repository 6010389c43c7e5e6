using System.Runtime.CompilerServices;
using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Ingest;
using TimeFusion.Query.Statements;
using TimeFusion.Silo.Backend.Catalog;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Protocol.Postgres.Session;
using TimeFusion.Sql;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// One PostgreSQL session: statements go to the <see cref="IQueryGatewayGrain"/> as the session's user; errors keep
/// their SQLSTATE. Transaction blocks hold their INSERTs until COMMIT (ClusterPostgresSession.Transactions.cs).
/// Statements over pg_catalog or information_schema (and nothing else) go to the silo's <see cref="PgCatalogDatabase"/>.
/// </summary>
internal sealed partial class ClusterPostgresSession(IGrainFactory grains, PostgresUser user, IReadOnlyList<PostgresUser> users, PgCatalogDatabase catalog,
    StatementCancellations cancellations, StatementAdmission admission, long maxCopyBytes = 192L << 20) : IPostgresSession
{
    private readonly Caller _user = new(user.Projects.FirstOrDefault(), user.Projects, user.IsAdmin);

    /// <summary>The session's user, with the session's current <c>TimeZone</c> that queries run in (null for UTC).</summary>
    private Caller SessionCaller => Settings("TimeZone") is { } zone && !zone.Equals("UTC", StringComparison.OrdinalIgnoreCase)
        ? _user with { TimeZone = zone }
        : _user;

    /// <summary>This silo's connections (pg_stat_activity, pg_cancel_backend); none when the host keeps no registry.</summary>
    public PostgresSessions? Sessions { get; init; }

    /// <summary>This connection's process id (BackendKeyData), what pg_backend_pid() answers.</summary>
    public int ProcessId { get; init; }

    /// <summary>The connection's protocol-held settings (<see cref="PostgresSessionInfo.Setting"/>).</summary>
    public Func<string, string?> Settings { get; init; } = _ => null;

    private IQueryGatewayGrain Gateway => grains.GetGrain<IQueryGatewayGrain>(0);

    /// <summary>First keywords of statements the gateway plans as queries without classifying them again.</summary>
    private static bool IsQueryKeyword(string keyword) => keyword is "SELECT" or "VALUES" or "TABLE" or "FROM" or "(";

    public async ValueTask<StatementDescription> DescribeAsync(BackendStatement statement, IReadOnlyList<PgType?> parameterTypeHints, CancellationToken cancellationToken)
    {
        var sql = SessionSettingCalls.Substitute(statement.Sql, Settings);
        // Parameters the client did not type take the type the statement casts them to ($1::int), else text, as
        // PostgreSQL infers for untyped literals.
        var count = ParameterBinder.Count(sql);
        var casts = ParameterTypeInference.Infer(sql);
        var types = Enumerable.Range(0, count).Select(i => i < parameterTypeHints.Count && parameterTypeHints[i] is { } t && t.Oid != PgType.Unknown.Oid ? t
            : casts.GetValueOrDefault(i + 1) ?? PgType.Text).ToList();
        if (statement.Keyword == "EXPLAIN")
            return new StatementDescription(types, new Schema([new Field(TimeFusion.Query.Execution.PlanExplainer.ColumnName, Apache.Arrow.Types.StringType.Default, false)], null));
        if (statement.Keyword is not ("SELECT" or "WITH" or "VALUES" or "TABLE" or "(")) return new StatementDescription(types, null);
        var bound = ParameterBinder.Bind(sql, new object?[count]);
        if (!SystemTablesView.References(bound) && !SystemSilosView.References(bound) && await CatalogTablesIfCatalogQuery(bound) is { } tables)
        {
            var (schema, batches) = await catalog.QueryAsync(WithSessionActivity(bound), user.Name, tables, users, cancellationToken);
            (schema, _) = CancelBackendCalls.Apply(schema, batches, cancel: null);
            return new StatementDescription(types, schema);
        }
        // A SELECT built here: it goes to the gateway classified.
        var probe = new ClassifiedStatement(StatementKind.Select, $"SELECT * FROM ({bound.TrimEnd().TrimEnd(';')}) AS __describe LIMIT 0", "SELECT");
        var result = await Call(() => Gateway.QueryStatementAsync(probe, SessionCaller, cancellationToken), cancellationToken);
        // JSON columns come marked arrow.json (jsonb) by the plan, as DuckDB's binder typed them.
        return new StatementDescription(types, result.Schema);
    }

    public async ValueTask<StatementResult> ExecuteAsync(BackendStatement statement, IReadOnlyList<object?> parameters, CancellationToken cancellationToken)
    {
        // DDL of this session may change what a plan targets: its plans are made again (other sessions' plans notice a
        // changed table when its grain refuses their batch; see ClusterPostgresSession.PreparedInserts.cs).
        if (statement.Keyword is "CREATE" or "DROP" or "ALTER" or "TRUNCATE") _insertPlans.Clear();
        // A parameterized INSERT outside a block runs from its plan when it can (ClusterPostgresSession.PreparedInserts.cs).
        if (InsertPlans && statement.Keyword == "INSERT" && parameters.Count > 0 && _block is null
            && await TryPlannedInsertAsync(statement.Sql, parameters, cancellationToken) is { } planned)
            return planned;
        var sql = SessionSettingCalls.Substitute(ParameterBinder.Bind(statement.Sql, parameters, await ArrayParametersAsync(statement.Sql, parameters)), Settings);
        // Routed by the keyword the protocol read; INSERT, UPDATE, DELETE and queries reach the gateway classified, so
        // nothing between the wire and the table grain splits or classifies them again.
        var keyword = statement.Keyword;
        if (await TransactionStatementAsync(keyword, sql, cancellationToken) is { } inTransaction) return inTransaction;
        switch (keyword)
        {
            case "INSERT":
                return StatementResult.Affected("INSERT", await Call(() => Gateway.ExecuteStatementAsync(new ClassifiedStatement(StatementKind.Insert, sql, keyword), SessionCaller, cancellationToken), cancellationToken));
            case "UPDATE" or "DELETE":
                var kind = keyword == "UPDATE" ? StatementKind.Update : StatementKind.Delete;
                return StatementResult.Affected(keyword, await Call(() => Gateway.ExecuteStatementAsync(new ClassifiedStatement(kind, sql, keyword), SessionCaller, cancellationToken), cancellationToken));
            case "CREATE":
                // CREATE TABLE or another CREATE: the gateway's classifier tells them apart (the only classification).
                await Call(() => Gateway.ExecuteAsync(sql, SessionCaller, cancellationToken), cancellationToken);
                return StatementResult.Command("CREATE TABLE");
            case "DROP" or "TRUNCATE" when !NamesCatalogRelation(sql):
                // DROP TABLE / TRUNCATE: the gateway reads and runs them (DdlStatementParser). One naming a catalog
                // relation goes where every catalog statement goes (which refuses it as read-only).
                await Call(() => Gateway.ExecuteAsync(sql, SessionCaller, cancellationToken), cancellationToken);
                return StatementResult.Command(keyword == "DROP" ? "DROP TABLE" : "TRUNCATE TABLE");
            case "FLUSH":
                // The gateway's classifier reads FLUSH's optional table (the only classification).
                await Call(() => Gateway.ExecuteAsync(sql, SessionCaller, cancellationToken), cancellationToken);
                return StatementResult.Command("FLUSH");
            case "OPTIMIZE" or "VACUUM":
                // Maintenance: the gateway reads the statement and runs it on each table grain of the caller's projects.
                await Call(() => Gateway.ExecuteAsync(sql, SessionCaller), cancellationToken);
                return StatementResult.Command(keyword);
            case "ALTER" when !NamesCatalogRelation(sql):
                // ALTER TABLE … SET (retention = …); any other ALTER is refused by the gateway. An ALTER of a catalog
                // relation goes where every catalog statement goes (which refuses it as read-only).
                await Call(() => Gateway.ExecuteAsync(sql, SessionCaller), cancellationToken);
                return StatementResult.Command("ALTER TABLE");
            default:
                // timefusion.tables is the gateway's (its name would otherwise read as information_schema's "tables").
                if (!SystemTablesView.References(sql) && !SystemSilosView.References(sql) && await CatalogTablesIfCatalogQuery(sql) is { } tables)
                {
                    var (schema, batches) = await catalog.QueryAsync(WithSessionActivity(sql), user.Name, tables, users, cancellationToken);
                    (schema, batches) = CancelBackendCalls.Apply(schema, batches, CancelBackend);
                    return StatementResult.Rows(schema, Enumerate(batches));
                }
                // WITH … may be a query or DML and anything else is refused: there the gateway classifies (once).
                return await QueryRowsAsync(IsQueryKeyword(keyword)
                    ? token => Gateway.StartQueryStatementAsync(new ClassifiedStatement(StatementKind.Select, sql, keyword), SessionCaller, token)
                    : token => Gateway.StartQueryAsync(sql, SessionCaller, token), cancellationToken);
        }
    }

    /// <summary>
    /// The catalog statement with this silo's connections the caller may see as pg_stat_activity (its own; every one
    /// for an admin) and pg_backend_pid() as this connection's.
    /// </summary>
    private string WithSessionActivity(string sql) => PgStatActivity.Attach(sql, ProcessId,
        () => Sessions?.Snapshot().Where(a => user.IsAdmin || a.UserName == user.Name) ?? []);

    /// <summary>
    /// pg_cancel_backend(pid): cancels the statement running on that connection of this silo through the CancelRequest
    /// path. As in PostgreSQL: false for a pid that is no connection (here: of this silo); 42501 for another user's
    /// connection unless the caller is an admin.
    /// </summary>
    private bool CancelBackend(int processId)
    {
        if (Sessions?.Find(processId) is not { } target) return false;
        if (!user.IsAdmin && target.UserName != user.Name)
            throw new PostgresErrorException(SqlState.InsufficientPrivilege, "permission denied to cancel query")
            {
                Detail = "Only an admin or the user whose query is being canceled may cancel it.",
            };
        return Sessions.Cancel(processId);
    }

    /// <summary>
    /// The parameters bound as arrays (<see cref="ArrayParameterTargets"/>), looked for only when a text value could be
    /// PostgreSQL array text: the common statement pays nothing.
    /// </summary>
    private async ValueTask<IReadOnlySet<int>?> ArrayParametersAsync(string sql, IReadOnlyList<object?> parameters)
    {
        if (!parameters.Any(p => p is string s && MayBeArrayText(s))) return null;
        // Best effort: a catalog unreachable for a moment (a silo restarting) must not fail a statement that needs no array.
        IReadOnlyList<TableDefinition> tables;
        try { tables = await grains.GetGrain<ICatalogGrain>(0).ListTablesAsync(); }
        catch (Exception e) when (e is not OperationCanceledException) { tables = []; }
        return ArrayParameterTargets.Find(sql, name => tables.FirstOrDefault(t => t.Name == name));
    }

    /// <summary>
    /// Whether <paramref name="value"/> may be PostgreSQL array text (<c>{…}</c>, or <c>[1:2]={…}</c> with bounds). A JSON
    /// object (<c>{"key": …</c>) or array (<c>[…</c>) is not: JSON parameters — common on the ingest path — then cost no
    /// catalog look-up.
    /// </summary>
    private static bool MayBeArrayText(string value)
    {
        var s = value.AsSpan().TrimStart();
        if (s.IsEmpty) return false;
        if (s[0] == '[') return s.Length > 1 && (char.IsAsciiDigit(s[1]) || s[1] == '-') && s.IndexOf(":") > 0 && s.IndexOf("={") > 0;
        if (s[0] != '{') return false;
        s = s[1..].TrimStart();
        if (s.IsEmpty || s[0] != '"') return true;
        // A quoted first element: a JSON object's key is followed by ':', an array element by ',' or '}'.
        for (var i = 1; i < s.Length; i++)
        {
            if (s[i] == '\\') { i++; continue; }
            if (s[i] == '"') return s[(i + 1)..].TrimStart() is not [':', ..];
        }
        return true;
    }

    /// <summary>Whether <paramref name="sql"/> names a pg_catalog relation or function.</summary>
    private bool NamesCatalogRelation(string sql) =>
        SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient).Where(t => t.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
            .Any(t => catalog.Names.Contains(t.FoldedIdentifier(sql)!));

    /// <summary>
    /// The catalog's tables when <paramref name="sql"/> reads the PostgreSQL catalog (names a pg_catalog relation or
    /// function, information_schema, or current_user) and no TimeFusion table; null otherwise.
    /// </summary>
    private async Task<IReadOnlyList<TableDefinition>?> CatalogTablesIfCatalogQuery(string sql)
    {
        var words = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient).Where(t => t.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
            .Select(t => t.FoldedIdentifier(sql)!).ToList();
        if (!words.Any(catalog.Names.Contains)) return null;
        var tables = await grains.GetGrain<ICatalogGrain>(0).ListTablesAsync();
        return words.Any(w => tables.Any(t => t.Name == w)) ? null : tables;
    }

    private static async IAsyncEnumerable<RecordBatch> Enumerate(IEnumerable<RecordBatch> rows, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var b in rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return b;
        }
        await Task.CompletedTask;
    }

    public async ValueTask<CopyTarget> DescribeCopyTargetAsync(string table, IReadOnlyList<string>? columns, CancellationToken cancellationToken)
    {
        var name = table.Trim('"').ToLowerInvariant();
        if (name.StartsWith("public.", StringComparison.Ordinal)) name = name["public.".Length..];
        var definition = (await grains.GetGrain<ICatalogGrain>(0).ListTablesAsync()).FirstOrDefault(t => t.Name == name)
            ?? throw new PostgresErrorException(SqlState.UndefinedTable, $"relation \"{table}\" does not exist");
        var schema = TableSchema.Create(definition.Name, definition.Columns).ToArrowSchema();
        var fields = columns is null
            ? schema.FieldsList.Where(f => f.Name is not (TableSchema.DateColumn or TableSchema.ProjectColumn)).ToList()
            : columns.Select(c => schema.GetFieldByName(c) ?? throw new PostgresErrorException(SqlState.UndefinedColumn,
                $"column \"{c}\" of relation \"{name}\" does not exist")).ToList();
        // Rows carrying project_id are gathered per project as they are parsed: each chunk then goes to one table grain.
        return new CopyTarget(name, new Schema(fields, null), RouteColumn: fields.FindIndex(f => f.Name == TableSchema.ProjectColumn));
    }

    public async ValueTask<long> CopyInAsync(CopyTarget target, IAsyncEnumerable<RecordBatch> batches, CancellationToken cancellationToken)
    {
        // Rows carrying project_id go to their projects (each checked writable before anything lands); others to the
        // caller's default project.
        if (SessionCaller.DefaultProject is null && target.Schema.GetFieldIndex(TableSchema.ProjectColumn) < 0)
            throw new PostgresErrorException(SqlState.InsufficientPrivilege, "COPY needs a user with a default project, or a project_id column");
        _block?.RequireWritable("COPY FROM");
        if (_block is { } block) return await HoldCopyAsync(block, target, batches, cancellationToken);
        // A COPY into the caller's own project that fits in one chunk is inserted as one batch (one WAL entry, atomic).
        // Anything larger, or routed by project_id, streams: each chunk (at most TimeFusion:Ingest:MaxBatchBytes) is
        // staged in a write transaction on every project's table grain (invisible, memory bounded), and only once the
        // whole input was read and staged are they committed. A COPY that fails anywhere (bad row, CopyFail, cancel,
        // disconnect, a grain refusing a chunk) aborts them all. There is no limit on the COPY as a whole.
        var direct = target.Schema.GetFieldIndex(TableSchema.ProjectColumn) < 0;
        RecordBatch? first = null;
        Guid? transaction = null;
        var begun = new List<string>();
        try
        {
            await foreach (var b in batches.WithCancellation(cancellationToken))
            {
                if (transaction is null && direct && first is null)
                {
                    first = Checked(b);
                    continue;
                }
                using var chunk = Checked(b);
                if (transaction is null)
                {
                    transaction = Guid.NewGuid();
                    if (first is not null) await StageAsync(transaction.Value, target.Table, first, begun, cancellationToken);
                }
                await StageAsync(transaction.Value, target.Table, chunk, begun, cancellationToken);
            }
            if (transaction is { } txn)
                return await Call(() => Gateway.CommitRoutedAsync(txn, target.Table, begun), cancellationToken);
            if (first is null) return 0;
            return await Call(() => Gateway.InsertRoutedAsync(target.Table, first, SessionCaller), cancellationToken);
        }
        catch when (transaction is { } txn)
        {
            // Not cancellable: the client is gone or gave up, and the staged rows must still go.
            await Gateway.AbortRoutedAsync(txn, target.Table, begun);
            throw;
        }
        finally
        {
            first?.Dispose();
        }
    }

    /// <summary>
    /// Inside a transaction block a COPY's rows wait for COMMIT (the block owns them from here), so they are read whole,
    /// up to the block's per-table limit; outside a block a COPY streams with no limit.
    /// </summary>
    private async Task<long> HoldCopyAsync(TransactionBlock block, CopyTarget target, IAsyncEnumerable<RecordBatch> batches, CancellationToken cancellationToken)
    {
        var all = new List<RecordBatch>();
        try
        {
            long bytes = 0;
            await foreach (var b in batches.WithCancellation(cancellationToken))
            {
                all.Add(b);
                bytes += ArrowSize.Of(b);
                if (bytes > maxCopyBytes)
                    throw new PostgresErrorException(SqlState.ProgramLimitExceeded,
                        $"a COPY inside a transaction block holds more than {maxCopyBytes} bytes (TimeFusion:Ingest:MaxBatchBytes); run it outside the block, where COPY streams without a limit");
            }
            if (all.Count == 0) return 0;
            var held = all.Count == 1 ? all[0] : Concatenate(target.Schema, all);
            if (all.Count == 1) all.Clear();
            block.HoldCopy(target.Table, held);
            return held.Length;
        }
        finally
        {
            foreach (var b in all) b.Dispose();
        }
    }

    private static RecordBatch Concatenate(Schema schema, List<RecordBatch> batches)
    {
        var columns = new IArrowArray[schema.FieldsList.Count];
        for (var c = 0; c < columns.Length; c++)
            columns[c] = ArrowArrayConcatenator.Concatenate(batches.Select(b => b.Column(c)).ToList());
        return new RecordBatch(schema, columns, batches.Sum(b => b.Length));
    }

    private RecordBatch Checked(RecordBatch chunk)
    {
        if (ArrowSize.Of(chunk) <= maxCopyBytes) return chunk;
        chunk.Dispose();
        throw new PostgresErrorException(SqlState.ProgramLimitExceeded,
            $"a COPY chunk holds more than {maxCopyBytes} bytes, the limit of one batch (TimeFusion:Ingest:MaxBatchBytes); lower the server's COPY chunk size or raise the limit");
    }

    private async Task StageAsync(Guid transaction, string table, RecordBatch chunk, List<string> begun, CancellationToken cancellationToken)
    {
        if (chunk.Length == 0) return;
        var started = await Call(() => Gateway.StageRoutedAsync(transaction, table, chunk, SessionCaller, begun.ToArray()), cancellationToken);
        begun.AddRange(started);
    }

    /// <summary>
    /// Runs a query whose rows stream to the client (<see cref="QueryResultStream"/>): the user's slot and the statement's
    /// registration are held until the protocol layer disposes the result (all rows sent, the portal or cursor closed,
    /// the client gone), so that a timeout, cancel request, disconnect or shutdown still interrupts the statement while
    /// its rows are being sent, and an abandoned result frees the slot and the table grain's DuckDB result.
    /// </summary>
    private async Task<StatementResult> QueryRowsAsync(Func<CancellationToken, Task<QueryStart>> start, CancellationToken cancellationToken)
    {
        IDisposable? slot = null;
        StatementCancellations.RunningStatement? statement = null;
        QueryResultStream? stream = null;
        try
        {
            try
            {
                slot = await admission.EnterAsync(user.Name, cancellationToken);
                statement = cancellations.Begin(cancellationToken);
                var begun = await start(statement.Token).WaitAsync(statement.Token);
                stream = await QueryResultStream.OpenAsync(grains, begun, statement.Token).WaitAsync(statement.Token);
                var schema = stream.Schema;
                var owner = new StreamedStatement(stream, statement, slot);
                return StatementResult.Rows(schema, TranslateErrors(stream.ReadAllAsync(), statement, cancellationToken), owner);
            }
            catch (Exception e) when (Translate(e, statement, cancellationToken) is { } translated)
            {
                throw translated;
            }
        }
        catch
        {
            if (stream is not null) await stream.DisposeAsync();
            statement?.Dispose();
            slot?.Dispose();
            throw;
        }
    }

    /// <summary>The rows of <paramref name="batches"/>, with failures while they stream turned into PostgreSQL errors.</summary>
    private static async IAsyncEnumerable<RecordBatch> TranslateErrors(IAsyncEnumerable<RecordBatch> batches, StatementCancellations.RunningStatement statement,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var e = batches.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await e.MoveNextAsync()) yield break;
            }
            catch (Exception failure) when (Translate(failure, statement, cancellationToken) is { } translated)
            {
                throw translated;
            }
            yield return e.Current;
        }
    }

    /// <summary>Ends a streamed statement: the grain's enumeration, then its registration and the user's slot.</summary>
    private sealed class StreamedStatement(QueryResultStream stream, StatementCancellations.RunningStatement statement, IDisposable slot) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await stream.DisposeAsync();
            }
            catch
            {
                // The grain frees an enumeration nobody reads on its own; the slot must be freed whatever happened.
            }
            finally
            {
                statement.Dispose();
                slot.Dispose();
            }
        }
    }

    /// <summary>
    /// The PostgreSQL error for a failure of a statement's grain calls: the server's reason when it cancelled the
    /// statement (shutdown, memory), the SQLSTATE of a TimeFusion error, the retryable code of a cluster failure; null for
    /// anything else (the caller's own cancellation included).
    /// </summary>
    private static PostgresErrorException? Translate(Exception e, StatementCancellations.RunningStatement? statement, CancellationToken cancellationToken)
    {
        if (e is PostgresErrorException) return null;
        if (e is OperationCanceledException or TimeFusionException && statement?.Reason is { } reason && !cancellationToken.IsCancellationRequested)
            return new PostgresErrorException(reason.SqlState, reason.Message);
        if (e is TimeFusionException t) return new PostgresErrorException(t.SqlState, t.Message);
        return TimeFusion.Hosting.ExceptionTranslationFilter.Translate(e) is { } translated
            ? new PostgresErrorException(translated.SqlState, translated.Message)
            : null;
    }

    /// <summary>
    /// Runs one statement through the grains: waits for one of the user's slots (<see cref="StatementAdmission"/>) and
    /// registers it (<see cref="StatementCancellations"/>), so that the session's timeout, cancel request and disconnect,
    /// server shutdown and memory pressure interrupt DuckDB wherever the statement runs. <paramref name="takeSlot"/> false
    /// skips the slot (a planned INSERT: see <see cref="TryPlannedInsertAsync"/>); the statement is registered all the same.
    /// </summary>
    private async Task<T> Call<T>(Func<Task<T>> call, CancellationToken cancellationToken, bool takeSlot = true)
    {
        try
        {
            using var slot = takeSlot ? await admission.EnterAsync(user.Name, cancellationToken) : null;
            using var statement = cancellations.Begin(cancellationToken);
            try
            {
                return await call().WaitAsync(statement.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeFusionException && statement.Reason is { } reason
                                      && !cancellationToken.IsCancellationRequested)
            {
                throw new PostgresErrorException(reason.SqlState, reason.Message);
            }
        }
        catch (TimeFusionException e)
        {
            throw new PostgresErrorException(e.SqlState, e.Message);
        }
        catch (Exception e) when (TimeFusion.Hosting.ExceptionTranslationFilter.Translate(e) is { } translated)
        {
            // Failures of the cluster itself (a silo gone mid-call) get their retryable SQLSTATE here too.
            throw new PostgresErrorException(translated.SqlState, translated.Message);
        }
    }

    public ValueTask DisposeAsync()
    {
        // A dropped connection ends its block: what it held is dropped, nothing was stored.
        _block?.Dispose();
        _block = null;
        return ValueTask.CompletedTask;
    }
}
