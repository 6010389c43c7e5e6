using Npgsql;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Tests.Wal;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// A real silo process killed (SIGKILL) while a transaction block holds INSERTs, an UPDATE and a DELETE: after the restart
/// the committed block (inserts, a delete and an update applied in order) is all there and the open one left nothing.
/// And killed during COMMIT of a block writing two tables (inserts and DML on each): after the restart each table has
/// all of its part of the block or none of it, and the table the block wrote second never has its part without the first.
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

    private long WalBytes(string project, string table)
    {
        var folder = WalFiles.Folder(Path.Combine(_data.Path, "wal"), new TableId(project, table));
        return Directory.Exists(folder) ? Directory.GetFiles(folder, "*.wal").Sum(f => new FileInfo(f).Length) : 0;
    }

    private static async Task<List<string>> RowsAsync(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        var rows = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(string.Join("=", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i).ToString())));
        return rows;
    }

    [Fact]
    public async Task A_silo_killed_during_COMMIT_leaves_each_table_all_or_nothing_of_the_block()
    {
        const string Side = "crash_side";
        List<string> sideBefore;
        await using (var setup = await _silo.OpenAsync(User, Password, b => b.SslMode = SslMode.Disable))
        {
            await ExecAsync(setup, $"CREATE TABLE {Side} (timestamp TIMESTAMPTZ NOT NULL, id TEXT NOT NULL, n BIGINT)");
            // Stored rows in Delta: the block's DML rewrites files, so applying the COMMIT takes a while.
            for (var i = 0; i < 40; i++) await ExecAsync(setup, Insert($"k-{i:00}"));
            for (var i = 0; i < 20; i++)
                await ExecAsync(setup, $"INSERT INTO {Side} (timestamp, id, n) VALUES (TIMESTAMPTZ '2026-12-06 12:00:00+00', 's-{i:00}', {i})");
            await ExecAsync(setup, "FLUSH otel_logs_and_spans");
            await ExecAsync(setup, $"FLUSH {Side}");
            sideBefore = await RowsAsync(setup, $"SELECT id, n FROM {Side} ORDER BY id");
        }

        var block = await _silo.OpenAsync(User, Password, b => b.SslMode = SslMode.Disable);
        await ExecAsync(block, "BEGIN");
        await ExecAsync(block, Insert("k-new-1"));
        await ExecAsync(block, Insert("k-new-2"));
        await ExecAsync(block, "UPDATE otel_logs_and_spans SET level = 'WARN' WHERE id LIKE 'k-%'");
        await ExecAsync(block, $"INSERT INTO {Side} (timestamp, id, n) VALUES (TIMESTAMPTZ '2026-12-06 12:00:00+00', 's-new', 100)");
        await ExecAsync(block, "DELETE FROM otel_logs_and_spans WHERE id = 'k-01'");
        await ExecAsync(block, $"UPDATE {Side} SET n = n + 1000 WHERE id LIKE 's-%'");
        await ExecAsync(block, Insert("k-late"));
        await ExecAsync(block, $"DELETE FROM {Side} WHERE id = 's-03'");
        var walBefore = WalBytes("crash", "otel_logs_and_spans");
        var commit = ExecAsync(block, "COMMIT");
        // Killed as soon as the first table's part of the block reaches its WAL: while it is applied, or just after.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (WalBytes("crash", "otel_logs_and_spans") == walBefore && !commit.IsCompleted && DateTime.UtcNow < deadline) await Task.Yield();
        await _silo.KillAsync();
        try
        {
            await commit; // COMMIT may have finished just before the kill: then everything must be there
        }
        catch (Exception e) when (e is NpgsqlException or IOException or ObjectDisposedException)
        {
            // the server died under it
        }
        await block.DisposeAsync();

        await _silo.StartAsync();
        await using var check = await _silo.OpenAsync(User, Password, b => b.SslMode = SslMode.Disable);
        var logs = await RowsAsync(check, "SELECT id, level FROM otel_logs_and_spans WHERE id LIKE 'k-%' ORDER BY id");
        var before = Enumerable.Range(0, 40).Select(i => $"k-{i:00}=INFO").ToList();
        var after = Enumerable.Range(0, 40).Where(i => i != 1).Select(i => $"k-{i:00}=WARN")
            .Concat(["k-late=INFO", "k-new-1=WARN", "k-new-2=WARN"]).Order(StringComparer.Ordinal).ToList();
        var logsCommitted = logs.SequenceEqual(after);
        Assert.True(logsCommitted || logs.SequenceEqual(before), "otel_logs_and_spans has part of the block: " + string.Join(", ", logs));

        var side = await RowsAsync(check, $"SELECT id, n FROM {Side} ORDER BY id");
        var sideAfter = Enumerable.Range(0, 20).Where(i => i != 3).Select(i => $"s-{i:00}={i + 1000}").Append("s-new=1100").ToList();
        var sideCommitted = side.SequenceEqual(sideAfter);
        Assert.True(sideCommitted || side.SequenceEqual(sideBefore), $"{Side} has part of the block: " + string.Join(", ", side));
        // Tables commit in the order the block first wrote them.
        Assert.False(sideCommitted && !logsCommitted, $"{Side} committed without otel_logs_and_spans");
    }
}
