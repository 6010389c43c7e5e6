using System.Security.Cryptography;
using Apache.Arrow;
using Microsoft.Extensions.DependencyInjection;
using TimeFusion.Client.Sdk;
using TimeFusion.Grains;
using TimeFusion.Silo.Security;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Cluster;

/// <summary>One silo that accepts SDK logins, with an admin and two users bound to one project each.</summary>
public sealed class SdkCluster : ClusterFixture
{
    public const string AdminPassword = "root-secret";

    protected override int Silos => 1;

    protected override Dictionary<string, string?> Settings => new()
    {
        ["TimeFusion:Users:0:Name"] = "root", ["TimeFusion:Users:0:PasswordOrScramSecret"] = AdminPassword, ["TimeFusion:Users:0:IsAdmin"] = "true",
        ["TimeFusion:Users:1:Name"] = "alice", ["TimeFusion:Users:1:PasswordOrScramSecret"] = "alice-pw", ["TimeFusion:Users:1:Projects:0"] = "proj-a",
        ["TimeFusion:Users:2:Name"] = "bob", ["TimeFusion:Users:2:PasswordOrScramSecret"] = "bob-pw", ["TimeFusion:Users:2:Projects:0"] = "proj-b",
    };

    protected override void ConfigureServices(IServiceCollection services) => services.AddTimeFusionSdkSessions();

    /// <summary>The single-node signing key the silo generated in its data directory.</summary>
    public byte[] SessionKey => File.ReadAllBytes(Path.Combine(DataDirectory, "sdk-session.key"));
}

public sealed class ClientSdkTests(SdkCluster fixture) : IClassFixture<SdkCluster>
{
    // The Orleans client outside the silo, as an SDK process has.
    private IClusterClient Outside => fixture.Cluster.Client;

    private static async Task<long> CountAsync(TimeFusionClient client)
    {
        var result = await client.QueryAllAsync("SELECT count(*) FROM otel_logs_and_spans");
        return ((Int64Array)result.Batches[0].Column(0)).GetValue(0)!.Value;
    }

    [Fact]
    public async Task The_sdk_inserts_arrow_and_streams_query_results_back_as_arrow()
    {
        var client = await TimeFusionClient.ConnectAsync(Outside, "alice", "alice-pw");
        await client.InsertAsync("proj-a", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(300, "s"));
        await client.FlushAsync(OtelLogsAndSpans.TableName);
        await client.InsertAsync("proj-a", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(200, "t"));

        var rows = new List<(string Service, long Count)>();
        await foreach (var batch in client.QueryAsync(
            "SELECT resource___service___name AS service, count(*) AS n FROM otel_logs_and_spans WHERE id LIKE 's-%' OR id LIKE 't-%' GROUP BY 1 ORDER BY 1"))
        {
            var services = (StringArray)batch.Column(0);
            var counts = (Int64Array)batch.Column(1);
            for (var i = 0; i < batch.Length; i++) rows.Add((services.GetString(i), counts.GetValue(i)!.Value));
        }
        // OtelRows spreads rows over 4 services round-robin: 300 → 75 each, 200 → 50 each.
        Assert.Equal([("svc-0", 125L), ("svc-1", 125L), ("svc-2", 125L), ("svc-3", 125L)], rows);
    }

    [Fact]
    public async Task The_sdk_streams_a_result_a_batch_at_a_time_and_stopping_early_ends_it()
    {
        // An admin's session streams from the table grain (other users get the gateway's gathered result).
        var client = await TimeFusionClient.ConnectAsync(Outside, "root", SdkCluster.AdminPassword);
        await client.InsertAsync("sdk-stream", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(1, "s"));

        // A result that never ends: only a stream can hand out its first batch; leaving the loop ends the query.
        await foreach (var batch in client.QueryAsync("SELECT r.range AS n FROM otel_logs_and_spans t, range(1000000000000) r WHERE t.project_id = 'sdk-stream'"))
        {
            Assert.True(batch.Length > 0);
            Assert.Equal(0L, ((Int64Array)batch.Column(0)).GetValue(0));
            break;
        }

        long rows = 0, sum = 0;
        var batches = 0;
        await foreach (var batch in client.QueryAsync("SELECT r.range AS n FROM otel_logs_and_spans t, range(300000) r WHERE t.project_id = 'sdk-stream'"))
        {
            var n = (Int64Array)batch.Column(0);
            for (var i = 0; i < n.Length; i++) sum += n.GetValue(i)!.Value;
            rows += batch.Length;
            batches++;
        }
        Assert.Equal(300_000L, rows);
        Assert.Equal(300_000L * 299_999 / 2, sum);
        Assert.True(batches > 1, "the result came as one batch");
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_28P01()
    {
        var e = await Assert.ThrowsAsync<TimeFusionException>(() => TimeFusionClient.ConnectAsync(Outside, "root", "guess"));
        Assert.Equal(SqlState.InvalidPassword, e.SqlState);
        Assert.Contains("password authentication failed for user \"root\"", e.Message);
        var unknown = await Assert.ThrowsAsync<TimeFusionException>(() => TimeFusionClient.ConnectAsync(Outside, "nobody", "x"));
        Assert.Equal(SqlState.InvalidPassword, unknown.SqlState);
    }

    [Fact]
    public async Task A_user_bound_to_one_project_reads_only_it_and_an_admin_reads_all()
    {
        var alice = await TimeFusionClient.ConnectAsync(Outside, "alice", "alice-pw");
        var bob = await TimeFusionClient.ConnectAsync(Outside, "bob", "bob-pw");
        var root = await TimeFusionClient.ConnectAsync(Outside, "root", SdkCluster.AdminPassword);
        var (a0, b0, all0) = (await CountAsync(alice), await CountAsync(bob), await CountAsync(root));
        await alice.InsertAsync("proj-a", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(40, "iso-a"));
        await bob.InsertAsync("proj-b", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(7, "iso-b"));

        Assert.Equal(a0 + 40, await CountAsync(alice));
        Assert.Equal(b0 + 7, await CountAsync(bob));
        Assert.Equal(all0 + 47, await CountAsync(root));
        // Alice may not write Bob's project, whatever she names.
        var e = await Assert.ThrowsAsync<TimeFusionException>(() => alice.InsertAsync("proj-b", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(1, "x")));
        Assert.Equal(SqlState.InsufficientPrivilege, e.SqlState);
    }

    [Fact]
    public async Task A_caller_the_client_claims_is_replaced_by_its_sessions()
    {
        var alice = await TimeFusionClient.ConnectAsync(Outside, "alice", "alice-pw");
        await alice.InsertAsync("proj-a", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(5, "claim"));
        var expected = await CountAsync(alice);
        var session = await Outside.GetGrain<IClientSessionGrain>(0).LoginAsync("alice", "alice-pw");

        // Alice's token, but an admin Caller in the arguments: the silo acts as Alice.
        var result = await WithTokenAsync(session.Token, () => Outside.GetGrain<IQueryGatewayGrain>(0).QueryAsync("SELECT count(*) FROM otel_logs_and_spans", Caller.Admin()));
        Assert.Equal(expected, ((Int64Array)result.Batches[0].Column(0)).GetValue(0)!.Value);
    }

    [Fact]
    public async Task Calls_without_a_valid_session_are_refused()
    {
        var gateway = Outside.GetGrain<IQueryGatewayGrain>(0);
        const string sql = "SELECT count(*) FROM otel_logs_and_spans";

        var none = await Assert.ThrowsAsync<TimeFusionException>(() => gateway.QueryAsync(sql, Caller.Admin()));
        Assert.Equal(SqlState.InvalidAuthorizationSpecification, none.SqlState);

        var now = DateTimeOffset.UtcNow;
        var refused = new Dictionary<string, string>
        {
            ["forged with another key"] = new SessionTokens(RandomNumberGenerator.GetBytes(32), TimeProvider.System).Issue("root", now.AddHours(1)),
            ["expired"] = new SessionTokens(fixture.SessionKey, TimeProvider.System).Issue("root", now.AddSeconds(-1)),
            ["of a user that does not exist"] = new SessionTokens(fixture.SessionKey, TimeProvider.System).Issue("mallory", now.AddHours(1)),
            ["tampered"] = Tamper((await Outside.GetGrain<IClientSessionGrain>(0).LoginAsync("alice", "alice-pw")).Token),
            ["garbage"] = "not-a-token",
        };
        foreach (var (what, token) in refused)
        {
            var e = await Assert.ThrowsAsync<TimeFusionException>(() => WithTokenAsync(token, () => gateway.QueryAsync(sql, Caller.Admin())));
            Assert.True(e.SqlState == SqlState.InvalidAuthorizationSpecification, $"a token {what}: {e.SqlState} {e.Message}");
            var renew = await Assert.ThrowsAsync<TimeFusionException>(() => Outside.GetGrain<IClientSessionGrain>(0).RenewAsync(token));
            Assert.Equal(SqlState.InvalidAuthorizationSpecification, renew.SqlState);
        }

        // A token signed with the silo's key and still valid is accepted (the refusals above are not for its form).
        var valid = new SessionTokens(fixture.SessionKey, TimeProvider.System).Issue("root", now.AddMinutes(5));
        await WithTokenAsync(valid, () => gateway.QueryAsync(sql, Caller.ForProject("none")));
    }

    [Fact]
    public async Task Only_an_admin_session_reaches_grains_other_than_the_gateway()
    {
        var table = Outside.GetGrain<ITableGrain>(TableGrainKey.Format("proj-a", OtelLogsAndSpans.TableName));
        var none = await Assert.ThrowsAsync<TimeFusionException>(() => table.GetStatusAsync());
        Assert.Equal(SqlState.InvalidAuthorizationSpecification, none.SqlState);

        var alice = await Outside.GetGrain<IClientSessionGrain>(0).LoginAsync("alice", "alice-pw");
        var user = await Assert.ThrowsAsync<TimeFusionException>(() => WithTokenAsync(alice.Token, () => table.GetStatusAsync()));
        Assert.Equal(SqlState.InsufficientPrivilege, user.SqlState);
        var catalog = await Assert.ThrowsAsync<TimeFusionException>(() => WithTokenAsync(alice.Token, () => Outside.GetGrain<ICatalogGrain>(0).ListTablesAsync()));
        Assert.Equal(SqlState.InsufficientPrivilege, catalog.SqlState);

        var root = await Outside.GetGrain<IClientSessionGrain>(0).LoginAsync("root", SdkCluster.AdminPassword);
        Assert.NotNull(await WithTokenAsync(root.Token, () => Outside.GetGrain<ICatalogGrain>(0).ListTablesAsync()));
    }

    // Swaps the user in the payload (alice → admin-like root) and keeps the signature.
    [Fact]
    public async Task Concurrent_writers_into_one_table_see_every_acknowledged_row_once_and_a_rejected_batch_leaves_nothing()
    {
        // Through Orleans into one table grain: each batch is validated and logged off the grain's turn, side by side,
        // and kept by the buffer in the pinned array it was received into.
        var client = await TimeFusionClient.ConnectAsync(Outside, "root", SdkCluster.AdminPassword);
        const string Project = "sdk-burst";
        const int Writers = 6, PerWriter = 4, Rows = 700;
        var lsns = await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var mine = new List<long>();
            for (var i = 0; i < PerWriter; i++)
            {
                if (w % 3 == 0 && i == 1)
                    await Assert.ThrowsAsync<TimeFusionException>(() => client.InsertAsync(Project, OtelLogsAndSpans.TableName, WithOneNullTimestamp(Rows, $"bad{w}")));
                mine.Add(await client.InsertAsync(Project, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(Rows, $"w{w}-{i}")));
            }
            return mine;
        })));
        var all = lsns.SelectMany(l => l).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.All(lsns, mine => Assert.True(mine.SequenceEqual(mine.Order()), "one writer's batches are logged in the order it sent them"));

        var result = await client.QueryAllAsync(
            $"SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE id LIKE 'bad%') FROM otel_logs_and_spans WHERE project_id = '{Project}'");
        var row = result.Batches[0];
        Assert.Equal(Writers * PerWriter * (long)Rows, ((Int64Array)row.Column(0)).GetValue(0));
        Assert.Equal(Writers * PerWriter * (long)Rows, ((Int64Array)row.Column(1)).GetValue(0));
        Assert.Equal(0L, ((Int64Array)row.Column(2)).GetValue(0));
    }

    /// <summary>Otel rows whose last row has no timestamp (a NOT NULL column): the whole batch is refused.</summary>
    private static RecordBatch WithOneNullTimestamp(int rows, string prefix)
    {
        var good = EngineTestKit.OtelRows(rows, prefix);
        var ts = new TimestampArray.Builder((Apache.Arrow.Types.TimestampType)good.Schema.GetFieldByName("timestamp").DataType);
        var source = (TimestampArray)good.Column("timestamp");
        for (var i = 0; i < rows - 1; i++) ts.Append(source.GetTimestamp(i)!.Value);
        ts.AppendNull();
        var fields = good.Schema.FieldsList.Select(f => f.Name == "timestamp" ? new Field(f.Name, f.DataType, true) : f).ToList();
        var columns = Enumerable.Range(0, good.ColumnCount).Select(i => good.Schema.FieldsList[i].Name == "timestamp" ? ts.Build() : good.Column(i)).ToList();
        return new RecordBatch(new Schema(fields, null), columns, rows);
    }

    private static string Tamper(string token)
    {
        var dot = token.IndexOf('.');
        var payload = System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan(0, dot)));
        return System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(payload.Replace("alice", "root"))) + token[dot..];
    }

    private static async Task<T> WithTokenAsync<T>(string token, Func<Task<T>> call)
    {
        RequestContext.Set(ClientSession.RequestContextKey, token);
        try
        {
            return await call();
        }
        finally
        {
            RequestContext.Remove(ClientSession.RequestContextKey);
        }
    }
}
