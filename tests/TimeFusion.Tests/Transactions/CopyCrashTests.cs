using System.Diagnostics;
using Npgsql;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Transactions;

/// <summary>
/// A real silo process SIGKILLed in the middle of a big streamed COPY (several chunks staged, some spilled to Parquet):
/// after the restart nothing of that COPY is visible, and every COPY acknowledged before the kill — a one-chunk COPY
/// still only in the WAL, and a streamed COPY over three projects — is there exactly once.
/// </summary>
public sealed class CopyCrashTests : IAsyncLifetime
{
    private const string User = "copyroot", Password = "copyroot-pw";
    private static readonly string[] Projects = ["crash-a", "crash-b", "crash-c"];
    private static readonly string Padding = new('x', 200);
    private readonly TempDirectory _data = new();
    private RealSiloProcess _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = new RealSiloProcess(_data.Path, new Dictionary<string, string>
        {
            ["TimeFusion:Users:0:Name"] = User, ["TimeFusion:Users:0:PasswordOrScramSecret"] = Password,
            ["TimeFusion:Users:0:IsAdmin"] = "true", ["TimeFusion:Users:0:Projects:0"] = "crash-a",
            ["TimeFusion:Flush:MaxBufferAge"] = "01:00:00", // acknowledged plain rows stay in the WAL only
            ["TimeFusion:Buffer:HardLimitBytes"] = (64L << 20).ToString(), ["TimeFusion:Buffer:SoftLimitBytes"] = (32L << 20).ToString(),
            ["TimeFusion:Buffer:Threads"] = "1",
            ["TimeFusion:Postgres:CopyBatchRows"] = "2000",
        });
        await _silo.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _data.Dispose();
    }

    private Task<NpgsqlConnection> OpenAsync() => _silo.OpenAsync(User, Password, b => b.SslMode = SslMode.Disable);

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    private Task<long> CountAsync(string prefix) => ScalarAsync($"SELECT count(*) FROM otel_logs_and_spans WHERE id LIKE '{prefix}-%'");

    private static string Row(string project, string prefix, int i) => $"{project}\t{prefix}-{i}\t2026-11-25 10:00:{i % 60:00}+00\tINFO\t\"{Padding}\"";

    [Fact]
    public async Task A_silo_killed_mid_copy_shows_nothing_of_it_and_every_acknowledged_copy_exactly_once()
    {
        await using (var conn = await OpenAsync())
        {
            // Acknowledged: a one-chunk COPY into the default project (one WAL entry, not flushed)…
            await using (var copy = await conn.BeginTextImportAsync("COPY otel_logs_and_spans (id, timestamp, level) FROM STDIN"))
                for (var i = 0; i < 300; i++) await copy.WriteLineAsync($"small-{i}\t2026-11-25 09:00:{i % 60:00}+00\tINFO");
            // …and a streamed COPY over three projects (committed in each project's Delta table).
            await using (var copy = await conn.BeginTextImportAsync("COPY otel_logs_and_spans (project_id, id, timestamp, level, body) FROM STDIN"))
                for (var i = 0; i < 9_000; i++) await copy.WriteLineAsync(Row(Projects[i % 3], "acked", i));
        }
        Assert.Equal(300, await CountAsync("small"));
        Assert.Equal(9_000, await CountAsync("acked"));

        // The big COPY: streamed until several chunks are staged on every project, then the process dies.
        var conn2 = await OpenAsync();
        var copy2 = await conn2.BeginTextImportAsync("COPY otel_logs_and_spans (project_id, id, timestamp, level, body) FROM STDIN");
        var staged = Stopwatch.StartNew();
        var i2 = 0;
        while (true)
        {
            for (var k = 0; k < 6_000; k++, i2++) await copy2.WriteLineAsync(Row(Projects[i2 % 3], "doomed", i2));
            await copy2.FlushAsync();
            if (await ScalarAsync("SELECT coalesce(sum(open_transactions), 0) FROM timefusion.tables") >= 3 && i2 >= 30_000) break;
            Assert.True(staged.Elapsed < TimeSpan.FromSeconds(60), "the COPY's transactions never opened");
        }
        await _silo.KillAsync();
        try
        {
            await conn2.DisposeAsync();
        }
        catch (Exception)
        {
            // The server is gone: the connection breaks.
        }

        await _silo.StartAsync();
        Assert.Equal(0, await CountAsync("doomed"));
        Assert.Equal(300, await CountAsync("small"));
        Assert.Equal(9_000, await CountAsync("acked"));
        foreach (var project in Projects)
            Assert.Equal(3_000, await ScalarAsync($"SELECT count(*) FROM otel_logs_and_spans WHERE id LIKE 'acked-%' AND project_id = '{project}'"));
        Assert.Equal(0, await ScalarAsync("SELECT coalesce(sum(open_transactions), 0) FROM timefusion.tables"));
    }
}
