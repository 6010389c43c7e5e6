using System.Globalization;
using Npgsql;
using TimeFusion.Silo.Security;
using TimeFusion.Tests.Cluster;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Maintenance;

/// <summary>
/// OPTIMIZE, VACUUM, ALTER TABLE … SET (retention) and <c>timefusion.tables</c> over the PostgreSQL protocol (Npgsql)
/// against a real silo, with tenant scoping: users reach only their own projects, admins all.
/// </summary>
public sealed class MaintenanceSqlTests(OneSiloCluster fixture, ITestOutputHelper output) : IClassFixture<OneSiloCluster>, IAsyncLifetime
{
    private ClusterPostgresEndpoint _pg = null!;

    public async Task InitializeAsync() => _pg = await ClusterPostgresEndpoint.StartAsync(fixture.Client,
        new TimeFusionUser { Name = "alice", PasswordOrScramSecret = "a", Projects = ["m-alice", "r-alice"] },
        new TimeFusionUser { Name = "bob", PasswordOrScramSecret = "b", Projects = ["m-bob"] },
        new TimeFusionUser { Name = "root", PasswordOrScramSecret = "r", IsAdmin = true, Projects = ["m-alice"] });

    public async Task DisposeAsync() => await _pg.DisposeAsync();

    private async Task<NpgsqlConnection> OpenAsync(string user, string password)
    {
        var builder = new NpgsqlDataSourceBuilder($"Host=127.0.0.1;Port={_pg.Port};Username={user};Password={password};Database=timefusion");
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        var ds = builder.Build();
        return await ds.OpenConnectionAsync();
    }

    private static async Task ExecAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<List<object?[]>> RowsAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection conn, string sql) =>
        Convert.ToInt64((await RowsAsync(conn, sql))[0][0], CultureInfo.InvariantCulture);

    private static string Ts(DateTimeOffset t) => "TIMESTAMPTZ '" + t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00'";

    /// <summary>Inserts <paramref name="flushes"/> small batches into the user's project, flushing after each.</summary>
    private static async Task LoadAsync(NpgsqlConnection conn, string project, int flushes, DateTimeOffset start, string prefix)
    {
        for (var f = 0; f < flushes; f++)
        {
            var values = string.Join(", ", Enumerable.Range(0, 5).Select(i =>
                $"('{prefix}-{f}-{i}', {Ts(start.AddMinutes(f).AddSeconds(i))}, 'INFO', {f * 10 + i}, '{project}')"));
            await ExecAsync(conn, $"INSERT INTO otel_logs_and_spans (id, timestamp, level, duration, project_id) VALUES {values}");
            await ExecAsync(conn, "FLUSH otel_logs_and_spans");
        }
    }

    [Fact]
    public async Task OPTIMIZE_and_VACUUM_reach_only_the_callers_projects_and_timefusion_tables_shows_their_health()
    {
        await using var alice = await OpenAsync("alice", "a");
        await using var bob = await OpenAsync("bob", "b");
        await using var root = await OpenAsync("root", "r");
        var day = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        await LoadAsync(alice, "m-alice", 12, day, "a");
        await LoadAsync(bob, "m-bob", 12, day, "b");
        const string probe = "SELECT count(*), sum(duration), max(timestamp) FROM otel_logs_and_spans WHERE project_id = '{0}'";
        var aliceBefore = (await RowsAsync(alice, string.Format(CultureInfo.InvariantCulture, probe, "m-alice")))[0];

        // The view: only alice's projects for alice, with WHERE/ORDER BY/aggregates; every project for the admin.
        var seen = await RowsAsync(alice, "SELECT project_id, table_name, files, small_files, rows, delta_version, silo FROM timefusion.tables WHERE project_id LIKE 'm-%' ORDER BY project_id");
        Assert.Equal(["m-alice"], seen.Select(r => (string)r[0]!));
        Assert.Equal("otel_logs_and_spans", seen[0][1]);
        Assert.Equal(12L, seen[0][2]);
        Assert.Equal(60L, seen[0][4]);
        Assert.False(string.IsNullOrEmpty((string?)seen[0][6]));
        Assert.Equal(2L, await ScalarAsync(root, "SELECT count(*) FROM timefusion.tables WHERE project_id IN ('m-alice', 'm-bob')"));
        Assert.Equal(0L, await ScalarAsync(alice, "SELECT count(*) FROM timefusion.tables WHERE project_id = 'm-bob'"));

        // Alice's OPTIMIZE merges her files only; bob's stay as they are.
        await ExecAsync(alice, "OPTIMIZE otel_logs_and_spans WHERE date >= '2026-11-01'");
        var files = (await RowsAsync(root, "SELECT project_id, files, small_files, last_optimize FROM timefusion.tables WHERE project_id IN ('m-alice', 'm-bob') ORDER BY 1"))
            .ToDictionary(r => (string)r[0]!, r => (Files: Convert.ToInt64(r[1]), Optimized: r[3]));
        output.WriteLine(string.Join(", ", files.Select(f => $"{f.Key}: {f.Value.Files} files")));
        Assert.Equal(1L, files["m-alice"].Files);
        Assert.NotNull(files["m-alice"].Optimized);
        Assert.Equal(12L, files["m-bob"].Files);
        Assert.Null(files["m-bob"].Optimized);
        Assert.Equal(aliceBefore, (await RowsAsync(alice, string.Format(CultureInfo.InvariantCulture, probe, "m-alice")))[0]);

        // A project the caller may not write is refused; VACUUM deletes the merged-away files of alice's table.
        await using (var cmd = new NpgsqlCommand("OPTIMIZE otel_logs_and_spans WHERE project_id = 'm-bob'", alice))
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync())).SqlState);
        await ExecAsync(alice, "VACUUM otel_logs_and_spans RETAIN 0 HOURS");
        var table = Path.Combine(fixture.DataDirectory, "tables", "projects", "m-alice", "otel_logs_and_spans");
        Assert.Single(Directory.GetFiles(table, "*.parquet", SearchOption.AllDirectories), p => !p.Contains("_delta_log"));
        Assert.NotNull((await RowsAsync(alice, "SELECT last_vacuum FROM timefusion.tables WHERE project_id = 'm-alice'"))[0][0]);
        Assert.Equal(aliceBefore, (await RowsAsync(alice, string.Format(CultureInfo.InvariantCulture, probe, "m-alice")))[0]);
        var bobTable = Path.Combine(fixture.DataDirectory, "tables", "projects", "m-bob", "otel_logs_and_spans");
        Assert.Equal(12, Directory.GetFiles(bobTable, "*.parquet", SearchOption.AllDirectories).Count(p => !p.Contains("_delta_log")));

        // Statement errors keep their SQLSTATE.
        await using (var cmd = new NpgsqlCommand("OPTIMIZE no_such_table", alice))
            Assert.Equal("42P01", (await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync())).SqlState);
        await using (var cmd = new NpgsqlCommand("OPTIMIZE otel_logs_and_spans WHERE level = 'INFO'", alice))
            Assert.Equal("0A000", (await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync())).SqlState);
    }

    [Fact]
    public async Task Timefusion_silos_lists_the_silo_with_the_table_grains_it_hosts_for_admins_only()
    {
        await using var alice = await OpenAsync("alice", "a");
        await using var root = await OpenAsync("root", "r");
        await LoadAsync(root, "s-root", 1, new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero), "s");

        var silos = await RowsAsync(root, "SELECT silo, address, status, start_time, table_grains, buffered_rows, wal_bytes FROM timefusion.silos");
        var silo = Assert.Single(silos);
        Assert.Equal("active", silo[2]);
        Assert.NotNull(silo[3]);
        // The silo's identity is the one timefusion.tables names, so its counts are the table grains it hosts.
        var grains = await ScalarAsync(root, "SELECT count(*) FROM timefusion.tables");
        Assert.True(grains > 0);
        Assert.Equal(grains, silo[4]);
        Assert.Equal(silo[0], (await RowsAsync(root, "SELECT min(silo) FROM timefusion.tables"))[0][0]);
        Assert.Equal(await ScalarAsync(root, "SELECT sum(wal_bytes) FROM timefusion.tables"), silo[6]);
        // Both views in one statement, joined on the silo.
        Assert.Equal(silo[4], await ScalarAsync(root, "SELECT count(*) FROM timefusion.tables t JOIN timefusion.silos s ON s.silo = t.silo"));

        // The cluster's addresses and every project's load are for operators.
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM timefusion.silos", alice);
        Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteScalarAsync())).SqlState);
    }

    [Fact]
    public async Task Retention_hides_old_rows_at_once_drops_their_partitions_and_never_flushes_them()
    {
        await using var alice = await OpenAsync("alice", "a");
        const string project = "r-alice";
        var now = DateTimeOffset.UtcNow;
        var old = now.AddDays(-60);
        await LoadAsync(alice, project, 3, old, "old");     // flushed, 60 days old
        await LoadAsync(alice, project, 3, now.AddHours(-1), "new"); // flushed, recent
        // Buffered rows, old and new.
        await ExecAsync(alice, $"INSERT INTO otel_logs_and_spans (id, timestamp, level, duration, project_id) VALUES ('old-b', {Ts(old)}, 'INFO', 1, '{project}'), ('new-b', {Ts(now.AddMinutes(-5))}, 'INFO', 1, '{project}')");
        const string count = "SELECT count(*) FROM otel_logs_and_spans WHERE project_id = 'r-alice'";
        const string oldCount = "SELECT count(*) FROM otel_logs_and_spans WHERE project_id = 'r-alice' AND id LIKE 'old%'";
        Assert.Equal(32L, await ScalarAsync(alice, count));

        // Table-wide retention is an admin's; a user sets the override of a project of hers.
        await using (var cmd = new NpgsqlCommand("ALTER TABLE otel_logs_and_spans SET (retention = '30 days')", alice))
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync())).SqlState);
        await using (var cmd = new NpgsqlCommand("ALTER TABLE otel_logs_and_spans SET (retention = '30 days', project = 'm-bob')", alice))
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync())).SqlState);
        await using (var cmd = new NpgsqlCommand("ALTER TABLE otel_logs_and_spans SET (retention = 'soon', project = 'r-alice')", alice))
            Assert.Equal("22023", (await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync())).SqlState);
        await ExecAsync(alice, "ALTER TABLE otel_logs_and_spans SET (retention = '30 days', project = 'r-alice')");

        Assert.Equal(0L, await ScalarAsync(alice, oldCount)); // buffered and flushed alike, at once
        Assert.Equal(16L, await ScalarAsync(alice, count));
        Assert.Equal("30 days", (await RowsAsync(alice, "SELECT retention FROM timefusion.tables WHERE project_id = 'r-alice'"))[0][0]);

        // VACUUM applies the retention: the old partition leaves Delta and its files go; the buffered old row is not flushed.
        await ExecAsync(alice, "VACUUM otel_logs_and_spans RETAIN 0 HOURS");
        await ExecAsync(alice, "FLUSH otel_logs_and_spans");
        var table = Path.Combine(fixture.DataDirectory, "tables", "projects", project, "otel_logs_and_spans");
        var oldDate = "date=" + old.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Assert.DoesNotContain(Directory.GetFiles(table, "*.parquet", SearchOption.AllDirectories), p => p.Contains(oldDate));
        // Even with the retention cleared, the old rows are gone for good.
        await ExecAsync(alice, "ALTER TABLE otel_logs_and_spans SET (retention = 'none', project = 'r-alice')");
        Assert.Null((await RowsAsync(alice, "SELECT retention FROM timefusion.tables WHERE project_id = 'r-alice'"))[0][0]);
        Assert.Equal(0L, await ScalarAsync(alice, oldCount));
        Assert.Equal(16L, await ScalarAsync(alice, count));
    }
}
