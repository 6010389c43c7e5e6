using Npgsql;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Security;

namespace TimeFusion.Tests.Cluster;

/// <summary>
/// COPY is one statement: when the cluster refuses its rows (here: more than the silo's whole memory budget, though
/// each parsed chunk would fit), nothing of it is stored, not even the chunks that came first.
/// </summary>
public sealed class CopyAtomicityTests(TinyBudgetCluster fixture) : IClassFixture<TinyBudgetCluster>
{
    [Fact]
    public async Task A_copy_the_cluster_refuses_stores_nothing()
    {
        // Chunks of 500 rows: each is far below the 3 MiB hard limit; all of them together are far above it.
        await using var endpoint = await ClusterPostgresEndpoint.StartAsync(fixture.Client,
            new PostgresServerOptions { Port = 0, CopyBatchRows = 500 },
            new TimeFusionUser { Name = "copier", PasswordOrScramSecret = "pw", Projects = ["copy-atomic"] });
        await using var ds = NpgsqlDataSource.Create($"Host=127.0.0.1;Port={endpoint.Port};Username=copier;Password=pw;Database=timefusion");
        await using var conn = await ds.OpenConnectionAsync();

        var padding = new string('x', 200);
        var e = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var copy = await conn.BeginTextImportAsync("COPY otel_logs_and_spans (id, timestamp, level, body) FROM STDIN");
            for (var i = 0; i < 40_000; i++) await copy.WriteLineAsync($"atomic-{i}\t2026-11-24 10:00:{i % 60:00}+00\tINFO\t\"{padding}\"");
        });
        Assert.StartsWith("5", e.SqlState); // resources: the batch is larger than the silo may buffer
        Assert.Contains("can never", e.MessageText, StringComparison.Ordinal);

        // Npgsql treats 53xxx as fatal to its connection (PostgreSQL closes it too on out-of-memory): a new one.
        await conn.CloseAsync();
        await conn.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM otel_logs_and_spans", conn);
        Assert.Equal(0L, await count.ExecuteScalarAsync());

        // A COPY that fits goes through whole.
        await using (var copy = await conn.BeginTextImportAsync("COPY otel_logs_and_spans (id, timestamp, level) FROM STDIN"))
            for (var i = 0; i < 1_200; i++) await copy.WriteLineAsync($"fits-{i}\t2026-11-24 11:00:{i % 60:00}+00\tINFO");
        Assert.Equal(1_200L, await count.ExecuteScalarAsync());
    }
}
