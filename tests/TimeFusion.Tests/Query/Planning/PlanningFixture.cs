using TimeFusion.Query.Planning;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Query.Planning;

/// <summary>One SqlParser shared by the planning tests (opening DuckDB per test would dominate their run time).</summary>
public sealed class PlanningFixture : IDisposable
{
    public PlanningFixture()
    {
        Parser = new SqlParser();
        Analyzer = new QueryAnalyzer(Parser, new FixedTime(Now));
        Classifier = new SqlStatementClassifier(Parser);
        Dml = new DmlAnalyzer(Parser, new FixedTime(Now));
    }

    /// <summary>The instant the analyzers take for now().</summary>
    public static readonly DateTimeOffset Now = new(2024, 5, 17, 12, 30, 45, 123, TimeSpan.Zero);

    public SqlParser Parser { get; }
    public QueryAnalyzer Analyzer { get; }
    public SqlStatementClassifier Classifier { get; }
    public DmlAnalyzer Dml { get; }

    public void Dispose() => Parser.Dispose();

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}

[CollectionDefinition(Name)]
public sealed class PlanningCollection : ICollectionFixture<PlanningFixture>
{
    public const string Name = "planning";
}

/// <summary>A catalog for tests: tables by name (case-insensitive) and the projects of each.</summary>
public sealed class TestCatalog : ICatalogView
{
    private readonly Dictionary<string, TableSchema> _tables = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<string>> _projects = new(StringComparer.OrdinalIgnoreCase);

    public TestCatalog Add(TableSchema schema, params string[] projects)
    {
        _tables[schema.Name] = schema;
        _projects[schema.Name] = [.. projects];
        return this;
    }

    public TableSchema? Find(string name) => _tables.GetValueOrDefault(name);

    public IReadOnlyList<string> ProjectsOf(string table) => _projects.GetValueOrDefault(table) ?? [];

    /// <summary>A small user table ("events") and the built-in otel table, both in projects p1, p2, p3.</summary>
    public static TestCatalog Standard() => new TestCatalog()
        .Add(EventsSchema, "p1", "p2", "p3")
        .Add(OtelLogsAndSpans.Schema, "p1", "p2", "p3");

    public static readonly TableSchema EventsSchema = TableSchema.Create("events",
    [
        new ColumnDefinition("service", ColumnType.Utf8),
        new ColumnDefinition("level", ColumnType.Utf8),
        new ColumnDefinition("duration", ColumnType.Int64),
        new ColumnDefinition("status", ColumnType.Int32),
        new ColumnDefinition("latency", ColumnType.Float64),
        new ColumnDefinition("ok", ColumnType.Boolean),
        new ColumnDefinition("attributes", ColumnType.Json),
        new ColumnDefinition("trace_id", ColumnType.Utf8),
        new ColumnDefinition("tags", ColumnType.Utf8List),
    ]);
}
