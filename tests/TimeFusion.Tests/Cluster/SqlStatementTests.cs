using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Cluster;

public sealed class SqlStatementTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>
{
    private IQueryGatewayGrain Gateway => fixture.Client.GetGrain<IQueryGatewayGrain>(0);

    private static long Count(ArrowBatches r) => ((Int64Array)r.Batches.Single(b => b.Length > 0).Column(0)).GetValue(0)!.Value;

    [Fact]
    public async Task Insert_values_routes_rows_to_their_projects_and_checks_write_permission()
    {
        var admin = Caller.Admin();
        var n = await Gateway.ExecuteAsync(
            "INSERT INTO otel_logs_and_spans (project_id, id, timestamp, level, hashes) VALUES " +
            "('iv1', 'a', TIMESTAMPTZ '2026-11-24 10:00:00+00', 'INFO', ['x', 'y']), " +
            "('iv1', 'b', TIMESTAMPTZ '2026-11-24 10:00:01+00', 'ERROR', NULL), " +
            "('iv2', 'c', TIMESTAMPTZ '2026-11-24 10:00:02+00', 'INFO', [])", admin);
        Assert.Equal(3, n);
        Assert.Equal(2, Count(await Gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans", Caller.ForProject("iv1"))));
        var hashes = await Gateway.QueryAsync("SELECT hashes FROM otel_logs_and_spans WHERE id = 'a'", Caller.ForProject("iv1"));
        var list = (ListArray)hashes.Batches.Single(b => b.Length > 0).Column(0);
        Assert.Equal(["x", "y"], Enumerable.Range(0, 2).Select(i => ((StringArray)list.GetSlicedValues(0)).GetString(i)));

        // Default project when project_id is not listed; another project's row is refused whole.
        Assert.Equal(1, await Gateway.ExecuteAsync("INSERT INTO otel_logs_and_spans (id, timestamp) VALUES ('d', TIMESTAMPTZ '2026-11-24 11:00:00+00')", Caller.ForProject("iv2")));
        Assert.Equal(2, Count(await Gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans", Caller.ForProject("iv2"))));
        var e = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.ExecuteAsync(
            "INSERT INTO otel_logs_and_spans (project_id, id, timestamp) VALUES ('iv1', 'e', TIMESTAMPTZ '2026-11-24 11:00:00+00')", Caller.ForProject("iv2")));
        Assert.Equal("42501", e.SqlState);
        Assert.Equal(2, Count(await Gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans", Caller.ForProject("iv1"))));
    }

    [Fact]
    public async Task Create_table_defines_a_user_table_that_takes_rows_and_answers_queries()
    {
        var admin = Caller.Admin("ct");
        await Gateway.ExecuteAsync("CREATE TABLE metrics (name VARCHAR NOT NULL, value DOUBLE, tags VARCHAR[])", admin);
        await Gateway.ExecuteAsync(
            "INSERT INTO metrics (name, value, timestamp) VALUES ('cpu', 0.5, TIMESTAMPTZ '2026-11-24 10:00:00+00'), ('cpu', 1.5, TIMESTAMPTZ '2026-11-24 10:01:00+00')", admin);
        var avg = await Gateway.QueryAsync("SELECT avg(value) FROM metrics WHERE name = 'cpu'", admin);
        Assert.Equal(1.0, ((DoubleArray)avg.Batches.Single(b => b.Length > 0).Column(0)).GetValue(0));
        // The same definition again is fine; a different one is an error.
        await Gateway.ExecuteAsync("CREATE TABLE metrics (name VARCHAR NOT NULL, value DOUBLE, tags VARCHAR[])", admin);
        await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.ExecuteAsync("CREATE TABLE metrics (name VARCHAR)", admin));
        await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.ExecuteAsync("CREATE TABLE t2 (x INTERVAL)", admin));
        var denied = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.ExecuteAsync("CREATE TABLE t3 (x VARCHAR)", Caller.ForProject("ct")));
        Assert.Equal("42501", denied.SqlState);
    }

    [Fact]
    public async Task A_rejected_batch_reports_its_column_and_writes_nothing()
    {
        var caller = Caller.ForProject("bad");
        var e = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.ExecuteAsync(
            "INSERT INTO otel_logs_and_spans (id, timestamp) VALUES ('ok', TIMESTAMPTZ '2026-11-24 10:00:00+00'), (NULL, TIMESTAMPTZ '2026-11-24 10:00:00+00')", caller));
        Assert.Contains("id", e.Message);
        Assert.Equal(0, Count(await Gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans", caller)));
    }
}

public sealed class StringEncodingTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>
{
    [Fact]
    public async Task Strings_sent_as_utf8_view_large_or_dictionary_are_stored_alike_and_compare_with_literals()
    {
        var tsBuilder = new TimestampArray.Builder(new Apache.Arrow.Types.TimestampType(Apache.Arrow.Types.TimeUnit.Microsecond, "UTC"));
        for (var i = 0; i < 3; i++) tsBuilder.Append(new DateTimeOffset(2026, 11, 24, 10, 0, i, TimeSpan.Zero));
        var ts = tsBuilder.Build();
        var ids = new StringViewArray.Builder().Append("view-0").Append("view-1 is long enough not to be inlined").Append("view-2").Build();
        var services = new DictionaryArray(new Apache.Arrow.Types.DictionaryType(Apache.Arrow.Types.Int32Type.Default, Apache.Arrow.Types.StringType.Default, false),
            new Int32Array.Builder().Append(0).Append(1).Append(0).Build(), new StringArray.Builder().Append("api").Append("db").Build());
        var levels = new LargeStringArray.Builder().Append("INFO").Append("ERROR").Append("INFO").Build();
        var schema = new Schema(
        [
            new Field("id", ids.Data.DataType, false), new Field("resource___service___name", services.Data.DataType, true),
            new Field("level", levels.Data.DataType, true), new Field("timestamp", ts.Data.DataType, false),
        ], null);
        var batch = new RecordBatch(schema, [ids, services, levels, ts], 3);
        var gateway = fixture.Client.GetGrain<IQueryGatewayGrain>(0);
        var caller = Caller.ForProject("enc");
        await gateway.InsertAsync("enc", "otel_logs_and_spans", batch, caller);

        var result = await gateway.QueryAsync(
            "SELECT id FROM otel_logs_and_spans WHERE resource___service___name = 'api' AND level = 'INFO' ORDER BY id", caller);
        var got = result.Batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => ((StringArray)b.Column(0)).GetString(i))).ToList();
        Assert.Equal(["view-0", "view-2"], got);
    }
}

public sealed class TimeBucketQueryTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>
{
    [Fact]
    public async Task Time_bucket_in_the_postgres_spelling_groups_rows_through_the_cluster()
    {
        var gateway = fixture.Client.GetGrain<IQueryGatewayGrain>(0);
        var caller = Caller.ForProject("tbq");
        // 500 rows one second apart from 22:00:00 UTC: 300 in the 22:00 five-minute bucket, 200 in 22:05.
        await gateway.InsertAsync("tbq", "otel_logs_and_spans", TimeFusion.Tests.Engine.EngineTestKit.OtelRows(500), caller);
        var result = await gateway.QueryAsync(
            "SELECT time_bucket('5 minutes', timestamp) AS bucket, count(*) AS n FROM otel_logs_and_spans GROUP BY 1 ORDER BY 1", caller);
        var rows = result.Batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i =>
            (((TimestampArray)b.Column(0)).GetTimestamp(i)!.Value.UtcDateTime, ((Int64Array)b.Column(1)).GetValue(i)!.Value))).ToList();
        Assert.Equal([(new DateTime(2026, 11, 24, 22, 0, 0, DateTimeKind.Utc), 300L), (new DateTime(2026, 11, 24, 22, 5, 0, DateTimeKind.Utc), 200L)],
            rows.Select(r => (DateTime.SpecifyKind(r.Item1, DateTimeKind.Utc), r.Item2)).ToList());
    }
}
