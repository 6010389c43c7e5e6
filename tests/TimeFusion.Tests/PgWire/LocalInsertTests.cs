using Npgsql;
using NpgsqlTypes;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// Prepared INSERTs that go straight into the engine of a table grain active on the silo (<c>LocalTableWriters</c>,
/// no Orleans call), on a real silo process: many concurrent statements are all acknowledged and all there — each
/// whole — after a SIGKILL and a restart; a statement refused mid-batch leaves nothing while its neighbours land; the
/// session's grant check still refuses another project's rows (42501).
/// </summary>
public sealed class LocalInsertTests : IAsyncLifetime
{
    private const string Admin = "localroot", User = "localuser", Password = "local-pw";
    private const int RowsPerStatement = 30;
    private readonly TempDirectory _data = new();
    private RealSiloProcess _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = new RealSiloProcess(_data.Path, new Dictionary<string, string>
        {
            ["TimeFusion:Users:0:Name"] = Admin, ["TimeFusion:Users:0:PasswordOrScramSecret"] = Password,
            ["TimeFusion:Users:0:IsAdmin"] = "true", ["TimeFusion:Users:0:Projects:0"] = "local",
            ["TimeFusion:Users:1:Name"] = User, ["TimeFusion:Users:1:PasswordOrScramSecret"] = Password,
            ["TimeFusion:Users:1:Projects:0"] = "local-a",
            ["TimeFusion:Buffer:Threads"] = "1",
        });
        await _silo.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _data.Dispose();
    }

    private Task<NpgsqlConnection> OpenAsync(string user = Admin) => _silo.OpenAsync(user, Password, b => b.SslMode = SslMode.Disable);

    /// <summary>A prepared INSERT of <paramref name="rows"/> rows (project_id, id, timestamp, level).</summary>
    private static async Task<NpgsqlCommand> PrepareAsync(NpgsqlConnection connection, int rows)
    {
        var values = string.Join(", ", Enumerable.Range(0, rows).Select(r => $"(${r * 4 + 1}, ${r * 4 + 2}, ${r * 4 + 3}, ${r * 4 + 4})"));
        var command = new NpgsqlCommand($"INSERT INTO otel_logs_and_spans (project_id, id, timestamp, level) VALUES {values}", connection);
        for (var r = 0; r < rows; r++)
        {
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
        }
        await command.PrepareAsync();
        return command;
    }

    /// <summary>Binds statement <paramref name="statement"/>'s rows: ids "{statement}-{row}"; <paramref name="nullAt"/> gets a NULL timestamp.</summary>
    private static void Bind(NpgsqlCommand command, string project, string statement, int nullAt = -1)
    {
        for (var r = 0; r < RowsPerStatement; r++)
        {
            command.Parameters[r * 4].Value = project;
            command.Parameters[r * 4 + 1].Value = $"{statement}-{r:00}";
            command.Parameters[r * 4 + 2].Value = r == nullAt ? DBNull.Value : new DateTime(2026, 12, 7, 9, 0, 0, DateTimeKind.Utc).AddMilliseconds(r);
            command.Parameters[r * 4 + 3].Value = "INFO";
        }
    }

    /// <summary>Rows per statement prefix ("{writer}.{n}") among ids starting with <paramref name="prefix"/>.</summary>
    private static async Task<Dictionary<string, long>> RowsPerStatementAsync(NpgsqlConnection connection, string project, string prefix)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT split_part(id, '-', 1) AS s, count(*) FROM otel_logs_and_spans WHERE project_id = '{project}' AND id LIKE '{prefix}%' GROUP BY 1", connection);
        var counts = new Dictionary<string, long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    [Fact]
    public async Task Concurrent_prepared_inserts_are_all_there_after_a_SIGKILL_each_whole()
    {
        const int Writers = 8;
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var sent = new List<string>();
            try
            {
                await using var connection = await OpenAsync();
                await using var command = await PrepareAsync(connection, RowsPerStatement);
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var statement = $"w{w}.{n}";
                    Bind(command, "local", statement);
                    sent.Add(statement);
                    await command.ExecuteNonQueryAsync();
                    acknowledged.Add(statement);
                }
            }
            catch (Exception e) when (e is NpgsqlException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // the server was killed under the statement
            }
            return sent;
        })).ToList();
        // Killed while every writer is mid-stream: well after the table started taking direct inserts.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (acknowledged.Count < 20 * Writers && DateTime.UtcNow < deadline && !writers.Any(t => t.IsCompleted)) await Task.Delay(10);
        Assert.True(acknowledged.Count >= 20 * Writers, $"only {acknowledged.Count} statements acknowledged before the deadline: {_silo.Output}");
        Assert.Contains("takes inserts directly from this silo's sessions", _silo.Output);
        await _silo.KillAsync();
        stop.Cancel();
        var sentAll = (await Task.WhenAll(writers)).SelectMany(s => s).ToHashSet();

        await _silo.StartAsync();
        await using var check = await OpenAsync();
        var counts = await RowsPerStatementAsync(check, "local", "w");
        foreach (var statement in acknowledged)
            Assert.Equal(RowsPerStatement, counts.GetValueOrDefault(statement)); // acknowledged: all of it, exactly once
        foreach (var (statement, rows) in counts)
        {
            Assert.Contains(statement, sentAll);
            Assert.Equal(RowsPerStatement, rows); // an unacknowledged statement is all there or not at all
        }
    }

    [Fact]
    public async Task A_statement_refused_mid_batch_leaves_nothing_while_its_neighbours_land()
    {
        await using (var warm = await OpenAsync())
        await using (var first = await PrepareAsync(warm, RowsPerStatement))
        {
            Bind(first, "local", "warm");
            await first.ExecuteNonQueryAsync(); // the grain takes direct inserts from here
        }
        var neighbours = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            await using var connection = await OpenAsync();
            await using var command = await PrepareAsync(connection, RowsPerStatement);
            for (var n = 0; n < 10; n++)
            {
                Bind(command, "local", $"n{w}.{n}");
                await command.ExecuteNonQueryAsync();
            }
        })).ToList();
        await using (var connection = await OpenAsync())
        await using (var bad = await PrepareAsync(connection, RowsPerStatement))
        {
            for (var n = 0; n < 5; n++)
            {
                Bind(bad, "local", $"bad.{n}", nullAt: 17);
                var error = await Assert.ThrowsAsync<PostgresException>(() => bad.ExecuteNonQueryAsync());
                Assert.Equal("23502", error.SqlState);
            }
        }
        await Task.WhenAll(neighbours);
        await using var check = await OpenAsync();
        var counts = await RowsPerStatementAsync(check, "local", "");
        Assert.DoesNotContain(counts.Keys, k => k.StartsWith("bad", StringComparison.Ordinal));
        Assert.Equal(40, counts.Count(kv => kv.Key.StartsWith('n') && kv.Value == RowsPerStatement));
        Assert.Contains("takes inserts directly from this silo's sessions", _silo.Output);
    }

    [Fact]
    public async Task A_user_bound_to_one_project_is_refused_another_projects_rows_though_that_table_takes_direct_inserts()
    {
        await using (var admin = await OpenAsync())
        await using (var command = await PrepareAsync(admin, RowsPerStatement))
        {
            for (var n = 0; n < 3; n++)
            {
                Bind(command, "local-b", $"adm.{n}");
                await command.ExecuteNonQueryAsync();
            }
        }
        await using var user = await OpenAsync(User);
        await using var other = await PrepareAsync(user, RowsPerStatement);
        Bind(other, "local-b", "intruder");
        var error = await Assert.ThrowsAsync<PostgresException>(() => other.ExecuteNonQueryAsync());
        Assert.Equal("42501", error.SqlState);
        Bind(other, "local-a", "own");
        Assert.Equal(RowsPerStatement, await other.ExecuteNonQueryAsync());

        await using var check = await OpenAsync();
        Assert.Empty(await RowsPerStatementAsync(check, "local-b", "intruder"));
        Assert.Equal(3, (await RowsPerStatementAsync(check, "local-b", "adm")).Count(kv => kv.Value == RowsPerStatement));
        Assert.Equal(RowsPerStatement, (await RowsPerStatementAsync(check, "local-a", "own")).GetValueOrDefault("own"));
    }
}
