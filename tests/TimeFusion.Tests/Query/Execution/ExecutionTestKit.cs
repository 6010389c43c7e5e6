using Apache.Arrow;
using Apache.Arrow.Types;
using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.DuckDb;
using TimeFusion.Engine;
using TimeFusion.Ingest;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Query.Planning;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Query.Execution;

/// <summary>
/// Engines over local storage for the <c>events</c> table (<see cref="TestCatalog.EventsSchema"/>), deterministic
/// rows over the 36 hours before <see cref="PlanningFixture.Now"/>, and the executors wired as the gateway and the
/// grains will wire them (<see cref="RunOnGrain"/> opens a snapshot and runs <see cref="SnapshotQueryExecutor"/>).
/// </summary>
public sealed class ExecutionTestKit : IAsyncDisposable
{
    public static readonly TableSchema Schema = TestCatalog.EventsSchema;
    public static readonly long NowMicros = (PlanningFixture.Now - DateTimeOffset.UnixEpoch).Ticks / 10;

    private readonly Dictionary<TableId, TableEngine> _engines = new();

    public ExecutionTestKit(string root, ExecutionOptions? options = null)
    {
        Root = root;
        Options = new EngineOptions();
        Options.Flush.StagingDirectory = Path.Combine(root, "staging");
        Buffer = BufferDatabase.Open(new BufferOptions { MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 2 });
        Objects = new LocalObjectStore(Path.Combine(root, "tables"));
        Wal = new LocalWalStorage(Path.Combine(root, "wal"));
        ExecutionOptions = options ?? new ExecutionOptions();
        Snapshots = new SnapshotQueryExecutor(ExecutionOptions);
        Merge = new MergeExecutor(Buffer, ExecutionOptions);
        Runner = new PlanRunner(Merge, ExecutionOptions);
    }

    public string Root { get; }
    public EngineOptions Options { get; }
    public BufferDatabase Buffer { get; }
    public LocalObjectStore Objects { get; }
    public IWalStorage Wal { get; }
    public ExecutionOptions ExecutionOptions { get; }
    public SnapshotQueryExecutor Snapshots { get; }
    public MergeExecutor Merge { get; }
    public PlanRunner Runner { get; }

    /// <summary>Every grain's statistics of its last run, for assertions on pruning.</summary>
    public List<(TableId Grain, SnapshotQueryStats Stats)> LastStats { get; } = [];

    public TableEngine Engine(TableId id) => _engines[id];

    public async Task<TableEngine> OpenAsync(TableId id, TableSchema? schema = null)
    {
        var engine = await TableEngine.OpenAsync(id, schema ?? Schema, new EngineServices(Buffer, Objects, Wal, Options));
        _engines[id] = engine;
        return engine;
    }

    /// <summary>The grain side: a snapshot of the engine, the statement run over it.</summary>
    public async Task<QueryBatches> RunOnGrain(TableId grain, string sql, TimeRange time, long? newestFirstLimit, CancellationToken cancellationToken)
    {
        var engine = _engines[grain];
        using var snapshot = engine.OpenSnapshot();
        var (batches, stats) = await Snapshots.ExecuteDetailedAsync(snapshot, engine.Schema, Objects, grain.Table, sql, time, newestFirstLimit, cancellationToken);
        lock (LastStats) LastStats.Add((grain, stats));
        return batches;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var e in _engines.Values) await e.DisposeAsync();
        await Buffer.DisposeAsync();
    }

    /// <summary>
    /// Rows of project <paramref name="s"/> (1-based): timestamps spread over the 36 hours before now (unique across
    /// projects), values in the shapes of the planning tests' events table.
    /// </summary>
    public static List<EventRow> Rows(int s, int count)
    {
        var rows = new List<EventRow>(count);
        for (var i = 0; i < count; i++)
        {
            var ts = NowMicros - (((long)i * 43201 + s * 104729L) % 129_600_000L) * 1000 - s;
            rows.Add(new EventRow(
                ts,
                new[] { "api", "web", "db", "auth", "billing" }[(i * 31 + s) % 5],
                i % 97 == 0 ? null : new[] { "info", "warn", "error", "debug" }[(i * 17 + s * 3) % 4],
                (i * 37L + s * 1000) % 5000,
                new[] { 200, 201, 404, 500, 503 }[(i * 13 + s) % 5],
                i % 89 == 0 ? null : ((i * 7 + s) % 1000) / 7.0,
                i % 3 != 0,
                "{\"http.method\":\"" + new[] { "GET", "POST", "PUT" }[(i + s) % 3] + "\",\"user\":\"u" + (i % 17) + "\",\"n\":" + (i % 11) + "}",
                "t" + (i / 3),
                i % 2 == 0 ? ["a", "b"] : ["c"]));
        }
        return rows;
    }

    public sealed record EventRow(long TimestampMicros, string Service, string? Level, long Duration, int Status, double? Latency, bool Ok,
        string Attributes, string TraceId, string[] Tags);

    /// <summary>A batch of rows without <c>date</c> and <c>project_id</c> (the engine fills them in).</summary>
    public static RecordBatch Batch(IReadOnlyList<EventRow> rows, string? project = null)
    {
        var ts = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        var service = new StringArray.Builder();
        var level = new StringArray.Builder();
        var duration = new Int64Array.Builder();
        var status = new Int32Array.Builder();
        var latency = new DoubleArray.Builder();
        var ok = new BooleanArray.Builder();
        var attributes = new StringArray.Builder();
        var trace = new StringArray.Builder();
        var tags = new ListArray.Builder(StringType.Default);
        var tagValues = (StringArray.Builder)tags.ValueBuilder;
        var dates = new Date32Array.Builder();
        var projects = new StringArray.Builder();
        foreach (var r in rows)
        {
            var t = DateTimeOffset.UnixEpoch.AddTicks(r.TimestampMicros * 10);
            ts.Append(t);
            service.Append(r.Service);
            if (r.Level is null) level.AppendNull(); else level.Append(r.Level);
            duration.Append(r.Duration);
            status.Append(r.Status);
            if (r.Latency is { } l) latency.Append(l); else latency.AppendNull();
            ok.Append(r.Ok);
            attributes.Append(r.Attributes);
            trace.Append(r.TraceId);
            tags.Append();
            foreach (var tag in r.Tags) tagValues.Append(tag);
            dates.Append(t.UtcDateTime.Date);
            if (project is not null) projects.Append(project);
        }
        var fields = new List<Field>
        {
            new("timestamp", new TimestampType(TimeUnit.Microsecond, "UTC"), false),
            new("service", StringType.Default, true), new("level", StringType.Default, true), new("duration", Int64Type.Default, true),
            new("status", Int32Type.Default, true), new("latency", DoubleType.Default, true), new("ok", BooleanType.Default, true),
            new("attributes", StringType.Default, true), new("trace_id", StringType.Default, true),
            new("tags", new ListType(new Field("item", StringType.Default, true)), true),
        };
        var arrays = new List<IArrowArray> { ts.Build(), service.Build(), level.Build(), duration.Build(), status.Build(), latency.Build(), ok.Build(),
            attributes.Build(), trace.Build(), tags.Build() };
        if (project is not null)
        {
            fields.Insert(0, new Field("date", Date32Type.Default, false));
            arrays.Insert(0, dates.Build());
            fields.Add(new Field("project_id", StringType.Default, false));
            arrays.Add(projects.Build());
        }
        return new RecordBatch(new Schema(fields, null), arrays, rows.Count);
    }

    /// <summary>
    /// Loads a project's rows into its engine: the oldest half in four time-sliced flushes (so files
    /// cover distinct time ranges), the newest half split between one more flush and the buffer, and every tenth row of
    /// the oldest slice kept in the buffer too — buffered and flushed rows overlap in time.
    /// </summary>
    public static async Task LoadAsync(TableEngine engine, List<EventRow> rows)
    {
        var sorted = rows.OrderBy(r => r.TimestampMicros).ToList();
        var slice = sorted.Count / 8;
        var buffered = new List<EventRow>();
        for (var k = 0; k < 4; k++)
        {
            var part = sorted.Skip(k * slice).Take(slice).ToList();
            var flushed = k == 0 ? part.Where((_, i) => i % 10 != 0).ToList() : part;
            if (k == 0) buffered.AddRange(part.Where((_, i) => i % 10 == 0));
            await engine.InsertAsync(Batch(flushed));
            await engine.FlushAsync();
        }
        var newest = sorted.Skip(4 * slice).ToList();
        await engine.InsertAsync(Batch(newest.Where((_, i) => i % 2 == 0).ToList()));
        await engine.FlushAsync();
        buffered.AddRange(newest.Where((_, i) => i % 2 == 1));
        foreach (var chunk in buffered.Chunk(700))
            await engine.InsertAsync(Batch(chunk));
    }
}

/// <summary>
/// The reference: one plain DuckDB database whose <c>events</c> table holds every row of every project (and one
/// database per project, for statements that reach one project), filled through the Arrow appender.
/// </summary>
public sealed class ReferenceDatabase : IDisposable
{
    public ReferenceDatabase()
    {
        Connection = new DuckDBConnection("DataSource=:memory:");
        Connection.Open();
        Execute("SET TimeZone = 'UTC'");
        Execute($"CREATE TABLE events ({ExecutionTestKit.Schema.ToDuckDbColumns()})");
    }

    public DuckDBConnection Connection { get; }

    public void Add(RecordBatch batch)
    {
        using var appender = new ArrowChunkAppender(Connection, "events", null, 2048);
        appender.Append(BatchValidator.ValidateRows(batch, ExecutionTestKit.Schema), 0);
    }

    /// <summary>A database <c>only_{project}</c> whose <c>events</c> holds that project's rows.</summary>
    public void AddProjectDatabase(string project)
    {
        Execute($"ATTACH ':memory:' AS only_{project}");
        Execute($"CREATE TABLE only_{project}.main.events AS SELECT * FROM memory.main.events WHERE project_id = '{project}'");
    }

    public void Execute(string sql)
    {
        using var cmd = Connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Runs a statement (in database <paramref name="database"/>) and returns its rows.</summary>
    public List<object?[]> Query(string sql, string database = "memory")
    {
        Execute("USE " + database);
        try
        {
            using var cmd = Connection.CreateCommand();
            cmd.CommandText = sql;
            using var reader = cmd.ExecuteReader();
            var rows = new List<object?[]>();
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                rows.Add(row);
            }
            return rows;
        }
        finally
        {
            Execute("USE memory");
        }
    }

    public void Dispose() => Connection.Dispose();
}
