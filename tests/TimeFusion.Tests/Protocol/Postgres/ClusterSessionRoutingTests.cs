using System.Reflection;
using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Grains;
using TimeFusion.Silo.Backend;
using TimeFusion.Silo.Backend.Catalog;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Sql;
using TimeFusion.Wire;
using StatementClassifier = TimeFusion.Silo.Protocol.Postgres.Sql.StatementClassifier;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>
/// From the wire to the gateway a statement is split and read once: the protocol splits the query string and reads
/// the first keyword, the session routes by that keyword, and INSERT, UPDATE, DELETE and queries reach the gateway
/// already classified (<see cref="IQueryGatewayGrain.ExecuteStatementAsync"/> / <see cref="IQueryGatewayGrain.StartQueryStatementAsync"/>),
/// where they are not split or classified again. A recording gateway stands in for the cluster.
/// </summary>
public sealed class ClusterSessionRoutingTests : IDisposable
{
    private readonly PgCatalogDatabase _catalog = new();
    private readonly RecordingGateway _gateway = new();
    private readonly ClusterPostgresSession _session;

    public ClusterSessionRoutingTests()
    {
        var user = new PostgresUser { Name = "u", Projects = ["p1"] };
        _session = new ClusterPostgresSession(GatewayOnlyGrainFactory.Create(_gateway), user, [user], _catalog, new StatementCancellations(),
            new StatementAdmission(Microsoft.Extensions.Options.Options.Create(new TimeFusion.Query.Execution.ExecutionOptions())));
    }

    public void Dispose() => _catalog.Dispose();

    [Theory]
    [InlineData("INSERT INTO t (a) VALUES ('x;y')", StatementKind.Insert, "INSERT")]
    [InlineData("update t SET a = 1 WHERE b = 2", StatementKind.Update, "UPDATE")]
    [InlineData("DELETE FROM t WHERE a = $$;$$", StatementKind.Delete, "DELETE")]
    [InlineData("SELECT a FROM t", StatementKind.Select, "SELECT")]
    [InlineData("(SELECT a FROM t) UNION ALL (SELECT b FROM t)", StatementKind.Select, "(")]
    [InlineData("VALUES (1)", StatementKind.Select, "VALUES")]
    public async Task Dml_and_queries_reach_the_gateway_classified_once_with_the_text_as_split(string text, StatementKind kind, string keyword)
    {
        var wire = $"/* c */ {text}; -- trailing";
        var statements = SqlTokenizer.SplitStatements(wire, SqlTokenizerMode.Lenient);
        var protocol = StatementClassifier.Classify(Assert.Single(statements));

        await using var result = await _session.ExecuteAsync(protocol.Backend, [], CancellationToken.None);

        var call = Assert.Single(_gateway.Calls);
        Assert.Equal(kind == StatementKind.Select ? nameof(IQueryGatewayGrain.StartQueryStatementAsync) : nameof(IQueryGatewayGrain.ExecuteStatementAsync), call.Method);
        Assert.Equal(new ClassifiedStatement(kind, text, keyword), call.Statement);
    }

    [Theory]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x")]
    [InlineData("EXPLAIN SELECT 1")]
    public async Task Statements_the_protocol_cannot_classify_by_keyword_are_classified_by_the_gateway_alone(string text)
    {
        await using var result = await _session.ExecuteAsync(StatementClassifier.Classify(text).Backend, [], CancellationToken.None);
        var call = Assert.Single(_gateway.Calls);
        Assert.Equal(nameof(IQueryGatewayGrain.StartQueryAsync), call.Method);
        Assert.Equal(text, call.Sql);
    }

    [Fact]
    public async Task Bound_parameters_travel_in_the_classified_text()
    {
        var protocol = StatementClassifier.Classify("INSERT INTO t (a, b) VALUES ($1, $2)");
        await using var result = await _session.ExecuteAsync(protocol.Backend, ["it's", 7], CancellationToken.None);
        Assert.Equal(new ClassifiedStatement(StatementKind.Insert, "INSERT INTO t (a, b) VALUES (('it''s'), (7))", "INSERT"), Assert.Single(_gateway.Calls).Statement);
    }

    [Fact]
    public async Task Transaction_statements_never_reach_the_gateway()
    {
        await using var result = await _session.ExecuteAsync(StatementClassifier.Classify("begin").Backend, [], CancellationToken.None);
        Assert.Equal("BEGIN", result.CommandTag);
        Assert.Empty(_gateway.Calls);
    }

    private sealed record Call(string Method, ClassifiedStatement? Statement, string? Sql);

    private sealed class RecordingGateway : IQueryGatewayGrain
    {
        private static readonly Schema OneColumn = new([new Field("x", Int64Type.Default, true)], null);

        public List<Call> Calls { get; } = [];

        private static ArrowBatches NoRows() => new(OneColumn, []);

        public Task<ArrowBatches> QueryAsync(string sql, Caller caller, CancellationToken cancellationToken = default)
        {
            Calls.Add(new Call(nameof(QueryAsync), null, sql));
            return Task.FromResult(NoRows());
        }

        public Task<long> ExecuteAsync(string sql, Caller caller, CancellationToken cancellationToken = default)
        {
            Calls.Add(new Call(nameof(ExecuteAsync), null, sql));
            return Task.FromResult(1L);
        }

        public Task<ArrowBatches> QueryStatementAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default)
        {
            Calls.Add(new Call(nameof(QueryStatementAsync), statement, null));
            return Task.FromResult(NoRows());
        }

        public Task<QueryStart> StartQueryAsync(string sql, Caller caller, CancellationToken cancellationToken = default)
        {
            Calls.Add(new Call(nameof(StartQueryAsync), null, sql));
            return Task.FromResult(new QueryStart(NoRows(), null, null));
        }

        public Task<QueryStart> StartQueryStatementAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default)
        {
            Calls.Add(new Call(nameof(StartQueryStatementAsync), statement, null));
            return Task.FromResult(new QueryStart(NoRows(), null, null));
        }

        public Task<long> ExecuteStatementAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default)
        {
            Calls.Add(new Call(nameof(ExecuteStatementAsync), statement, null));
            return Task.FromResult(1L);
        }

        public Task<long> InsertAsync(string project, string table, RecordBatch batch, Caller caller) => throw new NotSupportedException();
        public Task<long> InsertRoutedAsync(string table, RecordBatch batch, Caller caller) => throw new NotSupportedException();
        public Task<IReadOnlyList<EvaluatedInsert>> EvaluateInsertAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
        public Task<IReadOnlyList<string>> StageRoutedAsync(Guid transaction, string table, RecordBatch batch, Caller caller, IReadOnlyList<string> begun) => throw new NotSupportedException();
        public Task<long> CommitRoutedAsync(Guid transaction, string table, IReadOnlyList<string> projects) => throw new NotSupportedException();
        public Task AbortRoutedAsync(Guid transaction, string table, IReadOnlyList<string> projects) => throw new NotSupportedException();
        public Task<long> CommitBlockAsync(IReadOnlyList<BlockStatement> statements, Caller caller, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }

    /// <summary>An <see cref="IGrainFactory"/> that hands out the recording gateway and nothing else.</summary>
    public class GatewayOnlyGrainFactory : DispatchProxy
    {
        private object? _gateway;

        internal static IGrainFactory Create(IQueryGatewayGrain gateway)
        {
            var factory = Create<IGrainFactory, GatewayOnlyGrainFactory>();
            ((GatewayOnlyGrainFactory)(object)factory)._gateway = gateway;
            return factory;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.ReturnType == typeof(IQueryGatewayGrain) ? _gateway : throw new NotSupportedException(targetMethod?.Name);
    }
}
