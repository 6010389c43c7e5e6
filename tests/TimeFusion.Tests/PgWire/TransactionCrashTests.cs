using Npgsql;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// A real silo process killed (SIGKILL) while a transaction block holds INSERTs, an UPDATE and a DELETE: after the restart
/// the committed block (inserts, a delete and an update applied in order) is all there and the open one left nothing.
/// </summary>
public sealed class TransactionCrashTests : IAsyncLifetime
{
    private const string User = "txroot", Password = "txroot-pw";
    private readonly TempDirectory _data = new();
    private RealSiloProcess _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = new RealSiloProcess(_data.Path, new Dictionary<string, string>
        {
            ["TimeFusion:Users:0:Name"] = User, ["TimeFusion:Users:0:PasswordOrScramSecret"] = Password,
            ["TimeFusion:Users:0:IsAdmin"] = "true", ["TimeFusion:Users:0:Projects:0"] = "crash",
            ["TimeFusion:Buffer:Threads"] = "1",
        });
        await _silo.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _data.Dispose();
    }

    private static async Task ExecAsync(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    private static string Insert(string id) =>
        $"INSERT INTO otel_logs_and_spans (id, timestamp, level) VALUES ('{id}', TIMESTAMPTZ '2026-12-06 12:00:00+00', 'INFO')";

    [Fact]
    public async Task A_silo_killed_inside_a_block_keeps_the_committed_block_and_nothing_of_the_open_one()
    {
        await using (var committed = await _silo.OpenAsync(User, Password, b => b.SslMode = SslMode.Disable))
        {
            await ExecAsync(committed, "BEGIN");
            await ExecAsync(committed, Insert("crash-committed-1"));
            await ExecAsync(committed, Insert("crash-committed-2"));
            await ExecAsync(committed, Insert("crash-committed-3"));
            await ExecAsync(committed, "DELETE FROM otel_logs_and_spans WHERE id = 'crash-committed-3'");
            await ExecAsync(committed, "UPDATE otel_logs_and_spans SET level = 'WARN' WHERE id = 'crash-committed-2'");
            await ExecAsync(committed, "COMMIT");
        }
        var open = await _silo.OpenAsync(User, Password, b => b.SslMode = SslMode.Disable);
        await ExecAsync(open, "BEGIN");
        await ExecAsync(open, Insert("crash-open-1"));
        await ExecAsync(open, "UPDATE otel_logs_and_spans SET level = 'ERROR' WHERE id LIKE 'crash-%'");
        await ExecAsync(open, "DELETE FROM otel_logs_and_spans WHERE id = 'crash-committed-1'");
        await _silo.KillAsync();
        await open.DisposeAsync();

        await _silo.StartAsync();
        await using var check = await _silo.OpenAsync(User, Password, b => b.SslMode = SslMode.Disable);
        await using var cmd = new NpgsqlCommand("SELECT id, level FROM otel_logs_and_spans WHERE id LIKE 'crash-%' ORDER BY id", check);
        var ids = new List<string>();
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) ids.Add(reader.GetString(0) + "=" + reader.GetString(1));
        Assert.Equal(["crash-committed-1=INFO", "crash-committed-2=WARN"], ids);
    }
}
