using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Cluster;

/// <summary>
/// The gateway runs a statement a front end split off and classified as given: it does not split or classify it again
/// (each test below would fail if it did), and the planner still refuses text that is not one statement of that kind.
/// </summary>
public sealed class ClassifiedStatementTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>
{
    private const string Insert2 = "INSERT INTO otel_logs_and_spans (project_id, id, timestamp, level) VALUES " +
        "('{0}', 'a', TIMESTAMPTZ '2026-11-24 10:00:00+00', 'INFO'), ('{0}', 'b', TIMESTAMPTZ '2026-11-24 10:00:01+00', 'ERROR')";

    private IQueryGatewayGrain Gateway => fixture.Client.GetGrain<IQueryGatewayGrain>(0);

    private static long Count(ArrowBatches r) => ((Int64Array)r.Batches.Single(b => b.Length > 0).Column(0)).GetValue(0)!.Value;

    private async Task<long> CountAsync(string project) => Count(await Gateway.QueryStatementAsync(
        new ClassifiedStatement(StatementKind.Select, "SELECT count(*) FROM otel_logs_and_spans", "SELECT"), Caller.ForProject(project)));

    [Fact]
    public async Task Insert_update_delete_and_select_run_as_classified()
    {
        var caller = Caller.ForProject("cs1");
        Assert.Equal(2, await Gateway.ExecuteStatementAsync(new ClassifiedStatement(StatementKind.Insert, string.Format(Insert2, "cs1"), "INSERT"), caller));
        Assert.Equal(2, await CountAsync("cs1"));
        Assert.Equal(1, await Gateway.ExecuteStatementAsync(
            new ClassifiedStatement(StatementKind.Update, "UPDATE otel_logs_and_spans SET level = 'WARN' WHERE id = 'b'", "UPDATE"), caller));
        Assert.Equal(1, await Gateway.ExecuteStatementAsync(
            new ClassifiedStatement(StatementKind.Delete, "DELETE FROM otel_logs_and_spans WHERE level = 'WARN'", "DELETE"), caller));
        Assert.Equal(1, await CountAsync("cs1"));
    }

    [Fact]
    public async Task The_kind_given_decides_not_the_text_so_a_mislabelled_statement_is_refused_and_changes_nothing()
    {
        var caller = Caller.ForProject("cs2");
        await Gateway.ExecuteAsync(string.Format(Insert2, "cs2"), caller);

        // Re-classified, this would be a DELETE and remove both rows; as classified it is a malformed INSERT.
        var asInsert = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.ExecuteStatementAsync(
            new ClassifiedStatement(StatementKind.Insert, "DELETE FROM otel_logs_and_spans", "INSERT"), caller));
        Assert.Equal("42601", asInsert.SqlState);
        var asSelect = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.QueryStatementAsync(
            new ClassifiedStatement(StatementKind.Select, "DELETE FROM otel_logs_and_spans", "SELECT"), caller));
        Assert.Equal("0A000", asSelect.SqlState);
        // WITH … DELETE is classified DELETE but refused, as through ExecuteAsync.
        var with = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.ExecuteStatementAsync(
            new ClassifiedStatement(StatementKind.Delete, "WITH x AS (SELECT 1) DELETE FROM otel_logs_and_spans", "WITH"), caller));
        Assert.Equal("0A000", with.SqlState);
        // The statement API takes only what it documents.
        var flush = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.ExecuteStatementAsync(
            new ClassifiedStatement(StatementKind.Flush, "FLUSH", "FLUSH"), caller));
        Assert.Equal("0A000", flush.SqlState);
        Assert.Equal(2, await CountAsync("cs2"));
    }

    [Fact]
    public async Task A_classified_statement_is_not_split_so_it_must_be_one_statement()
    {
        var caller = Caller.ForProject("cs3");
        // Re-split, this would insert four rows; as one statement it is refused whole.
        var twice = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.ExecuteStatementAsync(
            new ClassifiedStatement(StatementKind.Insert, string.Format(Insert2, "cs3") + "; " + string.Format(Insert2, "cs3"), "INSERT"), caller));
        Assert.Equal("42601", twice.SqlState);
        var select = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.QueryStatementAsync(
            new ClassifiedStatement(StatementKind.Select, "SELECT 1; DELETE FROM otel_logs_and_spans", "SELECT"), caller));
        Assert.Equal("42601", select.SqlState);
        var unterminated = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.QueryStatementAsync(
            new ClassifiedStatement(StatementKind.Select, "SELECT 'open", "SELECT"), caller));
        Assert.Equal("42601", unterminated.SqlState);
        Assert.Equal(0, await CountAsync("cs3"));
    }
}
