using Npgsql;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Tests.Wal;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Abuse;

/// <summary>
/// Finding 12 on a real silo process: flipped bytes in the middle of a segment, a torn (zeroed) middle and a segment cut
/// short — each in its own table's WAL — are quarantined when the silo restarts: the tables answer with their good rows,
/// accept writes that survive the next restart, the damage is logged once per table and kept in quarantine files.
/// </summary>
public sealed class WalQuarantineTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string User = "walroot", Password = "walroot-pw", Table = "wal_events";
    private const int Entries = 40;
    private static readonly string[] Projects = ["flipped", "torn", "truncated"];

    private readonly TempDirectory _data = new();
    private RealSiloProcess _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = new RealSiloProcess(_data.Path, new Dictionary<string, string>
        {
            ["TimeFusion:Users:0:Name"] = User, ["TimeFusion:Users:0:PasswordOrScramSecret"] = Password,
            ["TimeFusion:Users:0:IsAdmin"] = "true", ["TimeFusion:Users:0:Projects:0"] = "flipped",
            // Nothing flushes: every row stays in the WAL, spread over many small segments.
            ["TimeFusion:Flush:MaxBufferAge"] = "01:00:00",
            ["TimeFusion:Wal:SegmentSizeBytes"] = "4096",
            ["TimeFusion:Buffer:Threads"] = "1",
        });
        await _silo.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _data.Dispose();
    }

    private async Task<long> ExecAsync(string sql)
    {
        await using var connection = await _silo.OpenAsync(User, Password, b => b.SslMode = SslMode.Disable);
        await using var cmd = new NpgsqlCommand(sql, connection);
        return sql.StartsWith("SELECT", StringComparison.Ordinal) ? Convert.ToInt64(await cmd.ExecuteScalarAsync()) : await cmd.ExecuteNonQueryAsync();
    }

    private string[] Segments(string project) => WalFiles.Segments(Path.Combine(_data.Path, "wal"), new TableId(project, Table));

    [Fact]
    public async Task Damaged_wal_regions_are_quarantined_and_the_tables_keep_serving_and_accepting()
    {
        await ExecAsync($"CREATE TABLE {Table} (timestamp TIMESTAMPTZ NOT NULL, id VARCHAR NOT NULL, pad VARCHAR)");
        var pad = new string('p', 300);
        foreach (var project in Projects)
        {
            for (var i = 0; i < Entries; i++) // one WAL entry per statement
                await ExecAsync($"INSERT INTO {Table} (timestamp, id, pad, project_id) VALUES ('2026-12-04 10:00:{i:00}+00', '{project}-{i}', '{pad}', '{project}')");
        }
        await _silo.KillAsync();

        // Damage a segment in the middle of each log (never the last one: damage at the end is a torn tail, cut anyway).
        foreach (var project in Projects)
        {
            var segments = Segments(project);
            Assert.True(segments.Length >= 4, $"{project}: {segments.Length} segments");
            var victim = segments[segments.Length / 2];
            var bytes = await File.ReadAllBytesAsync(victim);
            switch (project)
            {
                case "flipped":
                    for (var i = 0; i < 16; i++) bytes[bytes.Length / 2 + i] ^= 0xA5;
                    await File.WriteAllBytesAsync(victim, bytes);
                    break;
                case "torn":
                    Array.Clear(bytes, bytes.Length / 3, bytes.Length / 3);
                    await File.WriteAllBytesAsync(victim, bytes);
                    break;
                default:
                    await File.WriteAllBytesAsync(victim, bytes[..(bytes.Length / 2)]);
                    break;
            }
        }

        await _silo.StartAsync();
        var survivors = new Dictionary<string, long>();
        foreach (var project in Projects)
        {
            var count = await ExecAsync($"SELECT count(*) FROM {Table} WHERE project_id = '{project}'");
            output.WriteLine($"{project}: {count} of {Entries} rows served after quarantine");
            Assert.InRange(count, Entries / 2, Entries - 1);
            Assert.Equal(1, await ExecAsync($"INSERT INTO {Table} (timestamp, id, project_id) VALUES ('2026-12-04 11:00:00+00', '{project}-after', '{project}')"));
            survivors[project] = count + 1;
            var folder = Path.GetDirectoryName(Segments(project)[0])!;
            Assert.NotEmpty(Directory.GetFiles(folder, "quarantine.*"));
            // Reported where an operator looks: the table's row in timefusion.tables.
            Assert.True(await ExecAsync($"SELECT quarantined_wal_regions FROM timefusion.tables WHERE project_id = '{project}' AND table_name = '{Table}'") > 0);
            Assert.True(await ExecAsync($"SELECT quarantined_wal_bytes FROM timefusion.tables WHERE project_id = '{project}' AND table_name = '{Table}'") > 0);
        }
        var log = _silo.Output;
        foreach (var project in Projects)
            Assert.Single(log.Split('\n'), l => l.Contains("quarantined", StringComparison.Ordinal) && l.Contains($"{project}/{Table}", StringComparison.Ordinal));
        Assert.DoesNotContain("WalCorruptException", log);

        // What was acknowledged after the quarantine survives the next crash.
        await _silo.KillAsync();
        await _silo.StartAsync();
        foreach (var project in Projects)
        {
            var after = await ExecAsync($"SELECT count(*) FROM {Table} WHERE project_id = '{project}'");
            output.WriteLine($"{project}: {after} rows after the second restart (expected {survivors[project]})");
            Assert.Equal(survivors[project], after);
            Assert.Equal(1, await ExecAsync($"SELECT count(*) FROM {Table} WHERE project_id = '{project}' AND id = '{project}-after'"));
        }
    }
}
