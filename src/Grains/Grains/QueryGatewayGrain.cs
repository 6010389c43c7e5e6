using Apache.Arrow;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Query.Statements;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// Plans each statement with DuckDB's parser (<see cref="QueryAnalyzer"/>), checks the caller's project scope,
/// and routes: one (project, table) → that table grain runs the whole statement; several → each grain computes its
/// part and the results are merged here.
/// </summary>
/// <remarks>
/// Reentrant: a statement awaits its table grains (and DuckDB) for as long as it runs, and a non-reentrant stateless
/// worker (one activation per core) would let a few runaway statements queue every other session's call behind them.
/// The grain keeps no state between turns, so interleaving is safe. Every call's cancellation token flows to the
/// table grains, which interrupt DuckDB.
/// </remarks>
[StatelessWorker, Reentrant]
public sealed partial class QueryGatewayGrain(SqlParser parser, PlanRunner runner, MergeExecutor duckdb, IHostApplicationLifetime lifetime,
    StatementCancellations cancellations, Microsoft.Extensions.Options.IOptions<ExecutionOptions> executionOptions, TableGrainLocations locations,
    ILogger<QueryGatewayGrain> logger)
    : Grain, IQueryGatewayGrain
{
    private readonly ExecutionOptions _execution = executionOptions.Value;
    private readonly QueryAnalyzer _analyzer = new(parser);
    private readonly SqlStatementClassifier _classifier = new(parser);
    private readonly DmlAnalyzer _dml = new(parser);

    private static CallerScope ScopeOf(Caller caller) => (caller.IsAdmin
        ? CallerScope.Admin(caller.DefaultProject)
        : CallerScope.User(caller.DefaultProject, caller.Projects)).InTimeZone(caller.TimeZone);

    /// <inheritdoc />
    public Task<ArrowBatches> QueryAsync(string sql, Caller caller, CancellationToken cancellationToken = default)
    {
        var statements = _classifier.Classify(sql);
        if (statements is [{ Keyword: "EXPLAIN" } explain])
            return ExplainAsync(DdlStatementParser.ParseExplain(explain.Sql), caller, cancellationToken);
        if (statements.Count != 1 || statements[0].Kind != StatementKind.Select)
            throw NotOneQuery(statements);
        return RunQueryAsync(statements[0].Sql, caller, cancellationToken);
    }

    /// <summary>What a client is told when a query entry point gets something else: the statement it cannot run, by name.</summary>
    private static SqlPlanningException NotOneQuery(IReadOnlyList<ClassifiedStatement> statements) => statements.Count == 1
        ? new SqlPlanningException(SqlState.FeatureNotSupported, $"{statements[0].Keyword} is not supported here")
        : new SqlPlanningException(SqlState.FeatureNotSupported, $"expected one query, got {statements.Count} statements");

    /// <inheritdoc />
    public Task<ArrowBatches> QueryStatementAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statement);
        if (statement.Kind != StatementKind.Select)
            throw new SqlPlanningException(SqlState.FeatureNotSupported, "QueryStatementAsync takes one SELECT statement");
        // Classified by the front end: only checked to be one statement (the planner refuses anything but a SELECT).
        SqlStatementClassifier.RequireOneStatement(statement);
        return RunQueryAsync(statement.Sql, caller, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<QueryStart> StartQueryAsync(string sql, Caller caller, CancellationToken cancellationToken = default)
    {
        var statements = _classifier.Classify(sql);
        if (statements is [{ Keyword: "EXPLAIN" } explain])
            return new QueryStart(await ExplainAsync(DdlStatementParser.ParseExplain(explain.Sql), caller, cancellationToken), null, null);
        if (statements.Count != 1 || statements[0].Kind != StatementKind.Select)
            throw NotOneQuery(statements);
        return await StartPlannedAsync(statements[0].Sql, caller, cancellationToken);
    }

    /// <inheritdoc />
    public Task<QueryStart> StartQueryStatementAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statement);
        if (statement.Kind != StatementKind.Select)
            throw new SqlPlanningException(SqlState.FeatureNotSupported, "StartQueryStatementAsync takes one SELECT statement");
        SqlStatementClassifier.RequireOneStatement(statement);
        return StartPlannedAsync(statement.Sql, caller, cancellationToken);
    }

    /// <summary>
    /// A statement one table grain answers whole (and not newest-first, which may read again over more files) streams
    /// from that grain to the door, past this stateless worker (whose activations Orleans' enumeration calls could not
    /// find again); so does a row-wise statement over one table's several grains (each grain runs it whole, sorted by a
    /// sort key when it orders; the door concatenates or merges). Newest-first over several grains streams that way too
    /// when its LIMIT is over <see cref="ExecutionOptions.NewestFirstGatherRows"/>: gathering the top n of every grain
    /// would grow with n. The rest runs here, its result gathered and counted against StatementMemoryBytes.
    /// </summary>
    private async Task<QueryStart> StartPlannedAsync(string sql, Caller caller, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(sql, caller);
        if (plan is { Kind: PlanKind.SingleGrain, NewestFirstLimit: null })
        {
            var scan = plan.Scans[0];
            var time = PlanRunner.Hull(plan.Scans);
            return new QueryStart(null, TableGrainKey.Format(scan.Projects[0], scan.Table.Name),
                new GrainQuery(plan.GrainSql!, time.MinMicros, time.MaxMicros, null) { TimeZone = plan.TimeZone, JsonColumns = plan.JsonColumns });
        }
        if (plan is { Kind: PlanKind.RowShipping, Stream: { } stream, Scans: [{ Projects.Count: > 1 } only] }
            && (plan.NewestFirstLimit is null || plan.NewestFirstLimit > _execution.NewestFirstGatherRows))
        {
            // Several grains stream the statement each; the door concatenates or merges them (QueryResultStream).
            // Newest-first: only the rows up to the grains' common cutoff (phase one), so that they sort ~n rows in all.
            string grainSql;
            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancellations.TokenOf(), lifetime.ApplicationStopping))
                grainSql = plan.NewestFirstLimit is not null ? await NewestFirstCutoffSqlAsync(plan, stream, only, stop.Token) : stream.GrainSql;
            var part = new GrainQuery(grainSql, only.Time.MinMicros, only.Time.MaxMicros, null)
            {
                TimeZone = plan.TimeZone, JsonColumns = plan.JsonColumns,
                StreamBatchBytes = stream.Sorted ? MergeBatchBytes(only.Projects.Count) : 0,
            };
            return new QueryStart(null, null, part, only.Projects.Select(p => TableGrainKey.Format(p, only.Table.Name)).ToList(),
                new StreamMerge(stream.Sorted, stream.Limit, stream.Offset) { MemoryBytes = _execution.StatementMemoryBytes });
        }
        return new QueryStart(await RunPlanAsync(plan, cancellationToken), null, null);
    }

    /// <summary>
    /// The batch size each of <paramref name="grains"/> sorted streams is asked for: a k-way merge holds a batch of every
    /// grain and each grain's reader one more ahead, which together get at most half the statement's memory limit
    /// (at least 64 KiB a batch; 0: the grains' own size).
    /// </summary>
    private long MergeBatchBytes(int grains) =>
        _execution.StatementMemoryBytes == 0 ? 0 : Math.Max(64L << 10, _execution.StatementMemoryBytes / (4L * grains));

    private async Task<ArrowBatches> RunQueryAsync(string sql, Caller caller, CancellationToken cancellationToken) =>
        await RunPlanAsync(await PlanAsync(sql, caller), cancellationToken);

    private async Task<QueryPlan> PlanAsync(string sql, Caller caller)
    {
        if (SystemSilosView.References(sql))
        {
            // The cluster's addresses and every project's load: operators only.
            if (!caller.IsAdmin) throw new SqlPlanningException(SqlState.InsufficientPrivilege, "permission denied for view timefusion.silos (admins only)");
            sql = SystemSilosView.Rewrite(sql, await ClusterSilos.ListAsync(GrainFactory), await TableStatusesAsync(caller));
        }
        if (SystemTablesView.References(sql))
            sql = SystemTablesView.Rewrite(sql, await TableStatusesAsync(caller));
        var catalog = await GatewayCatalogView.LoadAsync(GrainFactory.GetGrain<ICatalogGrain>(0), withProjects: true);
        return _analyzer.Analyze(sql, catalog, ScopeOf(caller));
    }

    private async Task<ArrowBatches> RunPlanAsync(QueryPlan plan, CancellationToken cancellationToken)
    {
        // The server stopping interrupts the statement too: grain deactivation would otherwise wait for it.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancellations.TokenOf(), lifetime.ApplicationStopping);
        using var result = await runner.RunAsync(plan, (g, s, t, l, c) => RunOnGrainAsync(g, s, t, l, plan.TimeZone, c), RoutingFor(plan), stop.Token);
        // JSON results are typed by the plan: DuckDB exports JSON as plain utf8.
        return ArrowBatches.FromIpc(ArrowIpc.Write(ArrowJsonFields.Mark(result.Schema, plan.JsonColumns), result.Batches));
    }

    /// <summary>EXPLAIN [ANALYZE]: the plan of the statement as PostgreSQL prints one (a text column "QUERY PLAN").</summary>
    private async Task<ArrowBatches> ExplainAsync(ExplainStatement explain, Caller caller, CancellationToken cancellationToken)
    {
        var sql = explain.Query;
        var explained = _classifier.Classify(sql);
        if (explained is [{ Kind: StatementKind.Insert or StatementKind.Update or StatementKind.Delete } write])
            return Lines(await ExplainWriteAsync(write, explain.Analyze, caller, cancellationToken));
        if (explained is not [{ Kind: StatementKind.Select }])
            throw new SqlPlanningException(SqlState.FeatureNotSupported, "EXPLAIN of a statement other than a query (SELECT, INSERT, UPDATE, DELETE) is not supported");
        if (SystemTablesView.References(sql))
            sql = SystemTablesView.Rewrite(sql, await TableStatusesAsync(caller));
        var catalog = await GatewayCatalogView.LoadAsync(GrainFactory.GetGrain<ICatalogGrain>(0), withProjects: true);
        var plan = _analyzer.Analyze(sql, catalog, ScopeOf(caller));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancellations.TokenOf(), lifetime.ApplicationStopping);
        var lines = await PlanExplainer.ExplainAsync(plan, explain.Analyze,
            (grain, grainSql, time, limit, analyze, token) => GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(grain.Project, grain.Table))
                .ExplainAsync(new GrainQuery(grainSql, time.MinMicros, time.MaxMicros, limit) { TimeZone = plan.TimeZone }, analyze, token),
            async token =>
            {
                using var result = await runner.RunAsync(plan, (g, s, t, l, c) => RunOnGrainAsync(g, s, t, l, plan.TimeZone, c), token);
                return result.RowCount;
            }, stop.Token);
        return Lines(lines);
    }

    /// <summary>EXPLAIN's result: one text column "QUERY PLAN", a row per line.</summary>
    private static ArrowBatches Lines(IReadOnlyList<string> lines)
    {
        var builder = new StringArray.Builder();
        foreach (var line in lines) builder.Append(line);
        var schema = new Schema([new Field(PlanExplainer.ColumnName, Apache.Arrow.Types.StringType.Default, nullable: false)], null);
        using var batch = new RecordBatch(schema, [builder.Build()], lines.Count);
        return ArrowBatches.FromIpc(ArrowIpc.Write(schema, [batch]));
    }

    /// <summary>
    /// EXPLAIN of INSERT/UPDATE/DELETE: the grains the write would reach, without writing. EXPLAIN ANALYZE of a write is
    /// refused (0A000) rather than run: PostgreSQL would execute it, and a write here cannot be rolled back afterwards.
    /// </summary>
    private async Task<IReadOnlyList<string>> ExplainWriteAsync(ClassifiedStatement write, bool analyze, Caller caller, CancellationToken cancellationToken)
    {
        if (analyze)
            throw new SqlPlanningException(SqlState.FeatureNotSupported,
                $"EXPLAIN ANALYZE of {write.Keyword} is not supported: it would execute the write; use EXPLAIN without ANALYZE");
        var catalog = await GatewayCatalogView.LoadAsync(GrainFactory.GetGrain<ICatalogGrain>(0), withProjects: write.Kind != StatementKind.Insert);
        var scope = ScopeOf(caller);
        if (write.Kind != StatementKind.Insert)
            return WritePlanExplainer.UpdateOrDelete(_dml.AnalyzeUpdateOrDelete(write, catalog, scope));
        var plan = _dml.AnalyzeInsert(write, catalog, scope);
        var split = await Query.Statements.InsertValuesSplitter.SplitAsync(plan, duckdb, scope, cancellationToken);
        try
        {
            return WritePlanExplainer.Insert(plan.Table.Name, split.Select(s => (s.Project, s.Rows.RowCount)).ToList());
        }
        finally
        {
            foreach (var (_, batches) in split) batches.Dispose();
        }
    }

    private async Task<QueryBatches> RunOnGrainAsync(TableId grain, string sql, TimeRange time, long? newestFirstLimit, string? timeZone,
        CancellationToken cancellationToken)
    {
        var key = TableGrainKey.Format(grain.Project, grain.Table);
        var answer = await GrainFactory.GetGrain<ITableGrain>(key)
            .QueryPartAsync(new GrainQuery(sql, time.MinMicros, time.MaxMicros, newestFirstLimit) { TimeZone = timeZone }, cancellationToken);
        locations.Note(key, answer.Silo);
        return new QueryBatches(answer.Rows.Schema, answer.Rows.Batches);
    }

    /// <summary>
    /// The fan-out's grouping (<see cref="ExecutionOptions.GroupGrainCallsBySilo"/>): the parts of grains last seen on
    /// the same other silo go to that silo's <see cref="ISiloQueryGrain"/> in one call; null when it is off.
    /// </summary>
    private GrainCallRouting? RoutingFor(QueryPlan plan) => _execution.GroupGrainCallsBySilo
        ? new GrainCallRouting(RemoteSiloOf, (silo, parts, c) => RunOnSiloAsync(silo, parts, plan.TimeZone, c))
        : null;

    private string? RemoteSiloOf(TableId grain) =>
        locations.SiloOf(TableGrainKey.Format(grain.Project, grain.Table)) is { } silo && silo != RuntimeIdentity ? silo : null;

    private async Task<IReadOnlyList<QueryBatches>> RunOnSiloAsync(string silo, IReadOnlyList<GrainPart> parts, string? timeZone, CancellationToken cancellationToken)
    {
        var requests = parts.Select(p => new GrainQueryPart(TableGrainKey.Format(p.Grain.Project, p.Grain.Table),
            new GrainQuery(p.Sql, p.Time.MinMicros, p.Time.MaxMicros, p.NewestFirstLimit) { TimeZone = timeZone })).ToList();
        var answers = await GrainFactory.GetGrain<ISiloQueryGrain>(silo).QueryPartsAsync(requests, cancellationToken);
        for (var i = 0; i < answers.Count && i < requests.Count; i++) locations.Note(requests[i].GrainKey, answers[i].Silo);
        return answers.Select(a => new QueryBatches(a.Rows.Schema, a.Rows.Batches)).ToList();
    }

    /// <inheritdoc />
    public async Task<long> ExecuteAsync(string sql, Caller caller, CancellationToken cancellationToken = default)
    {
        long affected = 0;
        foreach (var statement in _classifier.Classify(sql))
        {
            cancellationToken.ThrowIfCancellationRequested();
            affected += await ExecuteOneAsync(statement, caller, cancellationToken);
        }
        return affected;
    }

    /// <inheritdoc />
    public Task<long> ExecuteStatementAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statement);
        if (statement.Kind is not (StatementKind.Insert or StatementKind.Update or StatementKind.Delete))
            throw new SqlPlanningException(SqlState.FeatureNotSupported, "ExecuteStatementAsync takes one INSERT, UPDATE or DELETE statement");
        // Classified by the front end: only checked to be one statement (the analyzer refuses another kind).
        SqlStatementClassifier.RequireOneStatement(statement);
        return ExecuteOneAsync(statement, caller, cancellationToken);
    }

    private async Task<long> ExecuteOneAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken)
    {
        switch (statement.Kind)
        {
            case StatementKind.Flush:
                return await FlushAsync(statement.FlushTable, caller);
            case StatementKind.Update or StatementKind.Delete:
                return await DmlAsync(statement, caller, cancellationToken);
            case StatementKind.Insert:
                return await InsertValuesAsync(statement, caller, cancellationToken);
            case StatementKind.Optimize:
                return await OptimizeAsync(MaintenanceStatementParser.ParseOptimize(statement.Sql), caller);
            case StatementKind.Vacuum:
                return await VacuumAsync(MaintenanceStatementParser.ParseVacuum(statement.Sql), caller);
            case StatementKind.AlterTable:
                await AlterRetentionAsync(MaintenanceStatementParser.ParseAlterRetention(statement.Sql), caller);
                return 0;
            case StatementKind.CreateTable:
                return await CreateTableAsync(statement, caller);
            case StatementKind.Other when statement.Keyword == "DROP":
                return await DropTablesAsync(DdlStatementParser.ParseDrop(statement.Sql), caller);
            case StatementKind.Other when statement.Keyword == "TRUNCATE":
                return await TruncateAsync(DdlStatementParser.ParseTruncate(statement.Sql), caller, cancellationToken);
            case StatementKind.Other when statement.Keyword == "ALTER":
                return await AddColumnAsync(DdlStatementParser.ParseAlter(statement.Sql), caller);
            case StatementKind.Other when statement.Keyword == "EXPLAIN":
                throw new SqlPlanningException(SqlState.FeatureNotSupported, "EXPLAIN returns rows: run it as a query");
            default:
                throw new SqlPlanningException(SqlState.FeatureNotSupported, $"{statement.Keyword} is not supported through ExecuteAsync yet");
        }
    }

    /// <summary>
    /// CREATE TABLE (admins only). IF NOT EXISTS leaves an existing table as it is; without it, a table of the same
    /// name and columns is accepted again (idempotent set-up scripts) and one with other columns is 42P07.
    /// </summary>
    private async Task<long> CreateTableAsync(ClassifiedStatement statement, Caller caller)
    {
        if (!caller.IsAdmin) throw new SqlPlanningException(SqlState.InsufficientPrivilege, "only an admin may create tables");
        var definition = CreateTableParser.Parse(statement.Sql);
        var catalog = GrainFactory.GetGrain<ICatalogGrain>(0);
        var existing = (await catalog.ListTablesAsync()).FirstOrDefault(t => t.Name == definition.Name);
        if (existing is not null && DdlStatementParser.IsCreateIfNotExists(statement.Sql)) return 0;
        if (existing is not null && !existing.Columns.SequenceEqual(TableSchema.Create(definition.Name, definition.Columns).Columns))
            throw new SqlPlanningException(SqlState.DuplicateTable, $"relation \"{definition.Name}\" already exists");
        await catalog.CreateTableAsync(definition);
        return 0;
    }

    /// <summary>
    /// DROP TABLE (admins only): every project's grain deletes its WAL and Delta table and deactivates, then the catalog
    /// forgets the table, so a table re-created under the name starts empty. Built-in tables cannot be dropped.
    /// </summary>
    private async Task<long> DropTablesAsync(DropTableStatement statement, Caller caller)
    {
        var catalog = GrainFactory.GetGrain<ICatalogGrain>(0);
        var tables = await catalog.ListTablesAsync();
        foreach (var name in statement.Tables)
        {
            if (name is OtelLogsAndSpans.TableName or OtelMetrics.TableName)
                throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied: \"{name}\" is a built-in table");
            if (tables.All(t => t.Name != name) && !statement.IfExists)
                throw new SqlPlanningException(SqlState.UndefinedTable, $"table \"{name}\" does not exist");
        }
        if (!caller.IsAdmin) throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"must be owner of table {statement.Tables[0]}");
        foreach (var name in statement.Tables.Where(n => tables.Any(t => t.Name == n)))
        {
            foreach (var project in await catalog.ProjectsOfAsync(name))
                await GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(project, name)).DropAsync();
            await catalog.DropTableAsync(name);
        }
        return 0;
    }

    /// <summary>
    /// ALTER TABLE … ADD COLUMN (admins only): the catalog's definition gains the column (persisted), then every
    /// project's grain of the table takes it on (reopening from its WAL, so no row is lost and rows written before read
    /// NULL). A grain not active now opens with the new definition anyway.
    /// </summary>
    private async Task<long> AddColumnAsync(AddColumnStatement statement, Caller caller)
    {
        var name = statement.Table.ToLowerInvariant();
        if (name is OtelLogsAndSpans.TableName or OtelMetrics.TableName)
            throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied: \"{name}\" is a built-in table");
        var catalog = GrainFactory.GetGrain<ICatalogGrain>(0);
        var table = (await catalog.ListTablesAsync()).FirstOrDefault(t => t.Name == name);
        if (table is null)
        {
            if (statement.IfTableExists) return 0;
            throw new SqlPlanningException(SqlState.UndefinedTable, $"relation \"{name}\" does not exist");
        }
        if (!caller.IsAdmin) throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"must be owner of table {name}");
        var column = statement.Column;
        if (table.Columns.Any(c => c.Name == column.Name))
        {
            if (statement.IfColumnNotExists) return 0;
            throw new SqlPlanningException(SqlState.DuplicateColumn, $"column \"{column.Name}\" of relation \"{name}\" already exists");
        }
        if (column.Name.Contains(',', StringComparison.Ordinal))
            throw new SqlPlanningException(SqlState.FeatureNotSupported, $"column \"{column.Name}\": an added column's name may not contain ','");
        await catalog.AddColumnAsync(name, column);
        foreach (var project in await catalog.ProjectsOfAsync(name))
            await GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(project, name)).TakeSchemaAsync();
        return 0;
    }

    /// <summary>TRUNCATE: deletes every row of the caller's writable projects (an admin's: every project) of each table.</summary>
    private async Task<long> TruncateAsync(TruncateStatement statement, Caller caller, CancellationToken cancellationToken)
    {
        var catalog = GrainFactory.GetGrain<ICatalogGrain>(0);
        var tables = await catalog.ListTablesAsync();
        foreach (var name in statement.Tables.Where(n => tables.All(t => t.Name != n)))
            throw new SqlPlanningException(SqlState.UndefinedTable, $"relation \"{name}\" does not exist");
        long rows = 0;
        var all = new DmlRequest(false, null, [], null, null);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancellations.TokenOf(), lifetime.ApplicationStopping);
        foreach (var name in statement.Tables)
        foreach (var project in (await catalog.ProjectsOfAsync(name)).Where(p => caller.IsAdmin || caller.Projects.Contains(p)))
        {
            stop.Token.ThrowIfCancellationRequested();
            rows += await GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(project, name)).ExecuteDmlAsync(all, stop.Token);
        }
        return rows;
    }

    private async Task<long> DmlAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken)
    {
        var catalog = await GatewayCatalogView.LoadAsync(GrainFactory.GetGrain<ICatalogGrain>(0), withProjects: true);
        var plan = _dml.AnalyzeUpdateOrDelete(statement, catalog, ScopeOf(caller));
        var request = new DmlRequest(plan.Kind == DmlKind.Update, plan.Predicate,
            plan.Assignments.Select(a => new KeyValuePair<string, string>(a.Column, a.Sql)).ToList(), plan.Time.MinMicros, plan.Time.MaxMicros);
        long affected = 0;
        // Each (project, table) applies whole or not at all; a statement cancelled part-way over several projects keeps
        // the projects already done, as a multi-project COPY does.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancellations.TokenOf(), lifetime.ApplicationStopping);
        foreach (var project in plan.Projects)
        {
            stop.Token.ThrowIfCancellationRequested();
            affected += await GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(project, plan.Table.Name)).ExecuteDmlAsync(request, stop.Token);
        }
        return affected;
    }

    private async Task<long> InsertValuesAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken)
    {
        var catalog = await GatewayCatalogView.LoadAsync(GrainFactory.GetGrain<ICatalogGrain>(0), withProjects: false);
        var scope = ScopeOf(caller);
        var plan = _dml.AnalyzeInsert(statement, catalog, scope);
        return await InsertSplitAsync(plan.Table.Name, await Query.Statements.InsertValuesSplitter.SplitAsync(plan, duckdb, scope, cancellationToken));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvaluatedInsert>> EvaluateInsertAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statement);
        if (statement.Kind != StatementKind.Insert)
            throw new SqlPlanningException(SqlState.FeatureNotSupported, "EvaluateInsertAsync takes one INSERT statement");
        SqlStatementClassifier.RequireOneStatement(statement);
        var catalog = await GatewayCatalogView.LoadAsync(GrainFactory.GetGrain<ICatalogGrain>(0), withProjects: false);
        var scope = ScopeOf(caller);
        var plan = _dml.AnalyzeInsert(statement, catalog, scope);
        var split = await Query.Statements.InsertValuesSplitter.SplitAsync(plan, duckdb, scope, cancellationToken);
        try
        {
            // Managed copies: the rows outlive the native results.
            return split.Select(s => new EvaluatedInsert(s.Project, plan.Table.Name.ToLowerInvariant(),
                ArrowBatches.FromIpc(ArrowIpc.Write(s.Rows.Schema, s.Rows.Batches.Where(b => b.Length > 0))))).ToList();
        }
        finally
        {
            foreach (var (_, batches) in split) batches.Dispose();
        }
    }

    /// <summary>Hands each project's rows (DuckDB results, disposed here) to that project's table grain.</summary>
    private async Task<long> InsertSplitAsync(string table, IReadOnlyList<(string Project, QueryBatches Rows)> split)
    {
        long rows = 0;
        try
        {
            foreach (var (project, batches) in split)
            {
                var grain = GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(project, table.ToLowerInvariant()));
                foreach (var batch in batches.Batches.Where(b => b.Length > 0))
                {
                    // Managed copy: the grain call may outlive the native result.
                    await grain.InsertAsync(ArrowBatches.FromIpc(ArrowIpc.Write(batch.Schema, [batch])).Batches[0]);
                    rows += batch.Length;
                }
            }
        }
        finally
        {
            foreach (var (_, batches) in split) batches.Dispose();
        }
        return rows;
    }

    private async Task<long> FlushAsync(string? table, Caller caller)
    {
        var catalog = GrainFactory.GetGrain<ICatalogGrain>(0);
        var tables = table is null ? (await catalog.ListTablesAsync()).Select(t => t.Name).ToList() : [table.ToLowerInvariant()];
        long rows = 0;
        foreach (var t in tables)
        {
            var projects = await catalog.ProjectsOfAsync(t);
            foreach (var p in projects.Where(p => caller.IsAdmin || caller.Projects.Contains(p)))
                rows += (await GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(p, t)).FlushAsync()).Rows;
        }
        return rows;
    }

    /// <summary>The status of every (project, table) grain the caller may read, for <c>timefusion.tables</c>.</summary>
    private async Task<IReadOnlyList<TableGrainStatus>> TableStatusesAsync(Caller caller)
    {
        var catalog = GrainFactory.GetGrain<ICatalogGrain>(0);
        var keys = new List<string>();
        foreach (var table in await catalog.ListTablesAsync())
        foreach (var project in await catalog.ProjectsOfAsync(table.Name))
        {
            if (caller.IsAdmin || caller.Projects.Contains(project)) keys.Add(TableGrainKey.Format(project, table.Name));
        }
        return await Task.WhenAll(keys.Select(k => GrainFactory.GetGrain<ITableGrain>(k).GetStatusAsync()));
    }

    /// <summary>The grains of <paramref name="table"/> a maintenance statement reaches: the caller's writable projects, narrowed by <paramref name="named"/>.</summary>
    private async Task<List<ITableGrain>> MaintenanceTargetsAsync(string table, IReadOnlyList<string>? named, Caller caller)
    {
        var catalog = GrainFactory.GetGrain<ICatalogGrain>(0);
        if ((await catalog.ListTablesAsync()).All(t => t.Name != table))
            throw new SqlPlanningException(SqlState.UndefinedTable, $"relation \"{table}\" does not exist");
        var projects = await catalog.ProjectsOfAsync(table);
        if (named is not null)
        {
            foreach (var p in named.Where(p => !caller.IsAdmin && !caller.Projects.Contains(p)))
                throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied for project '{p}'");
            projects = projects.Where(named.Contains).ToList();
        }
        return projects.Where(p => caller.IsAdmin || caller.Projects.Contains(p))
            .Select(p => GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(p, table))).ToList();
    }

    /// <summary>OPTIMIZE on each reachable grain; returns the files merged away.</summary>
    private async Task<long> OptimizeAsync(OptimizeStatement statement, Caller caller)
    {
        long files = 0;
        foreach (var grain in await MaintenanceTargetsAsync(statement.Table, statement.Projects, caller))
            files += (await grain.OptimizeAsync(new OptimizeRequest(statement.FromDate, statement.ToDate))).FilesRemoved;
        return files;
    }

    /// <summary>VACUUM on each reachable grain; returns the data files deleted.</summary>
    private async Task<long> VacuumAsync(VacuumStatement statement, Caller caller)
    {
        long files = 0;
        foreach (var grain in await MaintenanceTargetsAsync(statement.Table, null, caller))
            files += (await grain.VacuumAsync(new VacuumRequest(statement.Retain))).FilesDeleted;
        return files;
    }

    /// <summary>
    /// Stores a retention in the catalog (table-wide: admins only; a project's override: whoever may write it) and
    /// hands the effective retention to the affected grains at once.
    /// </summary>
    private async Task AlterRetentionAsync(AlterRetentionStatement statement, Caller caller)
    {
        if (statement.Project is null && !caller.IsAdmin)
            throw new SqlPlanningException(SqlState.InsufficientPrivilege,
                "only an admin may set a table's retention; set your project's with ALTER TABLE t SET (retention = '…', project = '…')");
        if (statement.Project is { } own && !caller.IsAdmin && !caller.Projects.Contains(own))
            throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied for project '{own}'");
        var catalog = GrainFactory.GetGrain<ICatalogGrain>(0);
        await catalog.SetRetentionAsync(statement.Table, statement.Project, statement.Retention);
        // Only grains that hold rows are told (others read it from the catalog when they activate).
        var projects = (await catalog.ProjectsOfAsync(statement.Table)).Where(p => statement.Project is null || p == statement.Project);
        foreach (var project in projects)
        {
            var effective = await catalog.RetentionOfAsync(statement.Table, project);
            await GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(project, statement.Table)).SetRetentionAsync(effective);
        }
    }

    /// <inheritdoc />
    /// <remarks>Returns the rows inserted (<see cref="InsertAsync"/> returns the WAL position instead).</remarks>
    public async Task<long> InsertRoutedAsync(string table, RecordBatch batch, Caller caller)
    {
        var column = batch.Schema.GetFieldIndex(TableSchema.ProjectColumn);
        if (column < 0)
        {
            var project = caller.DefaultProject
                ?? throw new SqlPlanningException(SqlState.InsufficientPrivilege, "the rows carry no project_id and the user has no default project");
            await InsertAsync(project, table, batch, caller);
            return batch.Length;
        }
        var projects = Query.Statements.ProjectRowSplitter.ProjectsOf(batch, column, ScopeOf(caller));
        if (projects.Count == 0) return 0;
        if (projects.Count == 1)
        {
            await InsertAsync(projects[0], table, batch, caller);
            return batch.Length;
        }
        return await InsertSplitAsync(table, await Query.Statements.ProjectRowSplitter.SplitAsync(batch, projects, duckdb, CancellationToken.None));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> StageRoutedAsync(Guid transaction, string table, RecordBatch batch, Caller caller, IReadOnlyList<string> begun)
    {
        table = table.ToLowerInvariant();
        var started = new List<string>();
        try
        {
            // Every project of the chunk is checked writable before anything of it is staged (42501 otherwise).
            foreach (var (project, rows) in await RouteAsync(table, null, batch, caller, CancellationToken.None))
                await StageOnAsync(transaction, table, project, rows, begun, started);
            return started;
        }
        catch
        {
            await AbortRoutedAsync(transaction, table, started);
            throw;
        }
    }

    private async Task StageOnAsync(Guid transaction, string table, string project, RecordBatch rows, IReadOnlyList<string> begun, List<string> started)
    {
        var grain = GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(project, table));
        if (!begun.Contains(project) && !started.Contains(project))
        {
            await grain.BeginTransactionAsync(transaction);
            started.Add(project);
        }
        await grain.StageAsync(transaction, rows);
    }

    /// <inheritdoc />
    public async Task<long> CommitRoutedAsync(Guid transaction, string table, IReadOnlyList<string> projects)
    {
        var grains = projects.Select(p => GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(p, table.ToLowerInvariant()))).ToList();
        // The projects' last rows go to Parquet side by side (nothing visible yet, so a failure there commits nothing);
        // then each commit is only its Delta commit, one after another.
        if (grains.Count > 1) await Task.WhenAll(grains.Select(g => g.PrepareTransactionAsync(transaction)));
        long rows = 0;
        foreach (var grain in grains)
            rows += await grain.CommitTransactionAsync(transaction);
        return rows;
    }

    /// <inheritdoc />
    public async Task AbortRoutedAsync(Guid transaction, string table, IReadOnlyList<string> projects)
    {
        foreach (var project in projects)
        {
            try
            {
                await GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(project, table.ToLowerInvariant())).AbortTransactionAsync(transaction);
            }
            catch (Exception e)
            {
                // Staged rows are invisible whatever happens here; the grain aborts an idle transaction on its own.
                logger.LogWarning(e, "aborting transaction {Transaction} on {Project}/{Table} failed", transaction.ToString("N"), project, table);
            }
        }
    }

    /// <inheritdoc />
    public Task<long> InsertAsync(string project, string table, RecordBatch batch, Caller caller)
    {
        if (Wire.ReceivedBatches.TryGet(batch, out var received)) received.GatewayEntered = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!caller.IsAdmin && !caller.Projects.Contains(project))
            throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied for project '{project}'");
        return GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(project, table.ToLowerInvariant())).InsertAsync(batch);
    }
}
