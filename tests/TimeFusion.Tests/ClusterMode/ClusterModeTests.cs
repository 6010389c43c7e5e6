using Npgsql;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.ClusterMode;

/// <summary>
/// Cluster mode with real processes: Azurite (shared by the collection) and TimeFusion silo child processes on
/// loopback ports, each test on a cluster id of its own (so its own membership rows, catalog and storage prefix).
/// </summary>
[Collection(ClusterModeCollection.Name)]
public sealed class ClusterModeTests(AzuriteFixture azurite, Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    private void Phase(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:F1} s  {what}");

    private readonly string _clusterId = "c" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<ClusterSiloProcess> _silos = [];
    private readonly List<TempDirectory> _directories = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos) await silo.DisposeAsync();
        foreach (var d in _directories) d.Dispose();
    }

    private string NewDataDirectory()
    {
        var directory = new TempDirectory();
        _directories.Add(directory);
        return directory.Path;
    }

    private async Task<ClusterSiloProcess[]> StartSilosAsync(int count, IReadOnlyDictionary<string, string>? settings = null,
        Func<int, IReadOnlyDictionary<string, string>>? perSilo = null)
    {
        var silos = await Task.WhenAll(Enumerable.Range(1, count).Select(i =>
            ClusterSiloProcess.StartAsync("silo" + i, azurite.ConnectionString, _clusterId, NewDataDirectory(),
                (settings ?? new Dictionary<string, string>()).Concat(perSilo?.Invoke(i) ?? new Dictionary<string, string>()).ToDictionary())));
        _silos.AddRange(silos);
        Phase($"{count} silos answering");
        return silos;
    }

    private static async Task<object?> ScalarAsync(ClusterSiloProcess silo, string sql)
    {
        await using var connection = new NpgsqlConnection(silo.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private async Task PollAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(describe());
            await Task.Delay(100);
        }
        Phase("condition met");
    }

    private async Task PollAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(describe());
            await Task.Delay(200);
        }
        Phase("condition met");
    }

    /// <summary>The statement's scalar, or null when it failed with a retryable SQLSTATE (the cluster is moving tables).</summary>
    private static async Task<object?> TryScalarAsync(ClusterSiloProcess silo, string sql)
    {
        try
        {
            return await ScalarAsync(silo, sql);
        }
        catch (PostgresException e) when (ClusterWriters.Retryable.Contains(e.SqlState))
        {
            return null;
        }
    }

    /// <summary>
    /// The dashboard answers on <paramref name="enabledPort"/> to an admin's Basic credentials only, and nothing
    /// listens on <paramref name="disabledPort"/> (the port of a silo with the dashboard off).
    /// </summary>
    private static async Task DashboardAnswersOnlyWhereEnabledAsync(int enabledPort, int disabledPort)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var root = new Uri($"http://127.0.0.1:{enabledPort}/");
        using (var anonymous = await http.GetAsync(root)) Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var wrong = new HttpRequestMessage(HttpMethod.Get, root))
        {
            wrong.Headers.Authorization = Basic("timefusion", "wrong");
            using var refused = await http.SendAsync(wrong);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        foreach (var path in new[] { "", "version" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(root, path));
            request.Headers.Authorization = Basic("timefusion", "timefusion");
            using var response = await http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"GET /{path}: {(int)response.StatusCode}");
            Assert.NotEmpty(await response.Content.ReadAsStringAsync());
        }
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://127.0.0.1:{disabledPort}/"));
    }

    private static System.Net.Http.Headers.AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>Waits until the writers have had a batch acknowledged in every project since the last mark.</summary>
    private Task EveryProjectWritableAsync(ClusterWriters writers, TimeSpan timeout, Func<string> describe) =>
        PollAsync(() => writers.ProjectsSinceMark >= ClusterWriters.Projects, timeout,
            () => $"only {writers.ProjectsSinceMark} of {ClusterWriters.Projects} projects took a write; retried {Describe(writers.Retried)}; unexpected {string.Join(" | ", writers.Unexpected.Take(5))}; {describe()}");

    private static string Describe(IReadOnlyDictionary<string, int> counts) => string.Join(", ", counts.Select(kv => $"{kv.Key}×{kv.Value}"));

    [Fact]
    public async Task Killing_a_silo_that_hosts_tables_and_then_a_rolling_restart_lose_no_acknowledged_row()
    {
        // The Orleans Dashboard on silo 1 only; silo 3 has a port configured but the dashboard off.
        var dashboardPorts = FreePorts.Take(2);
        var (s1, s2, s3) = await StartSilosAsync(3, perSilo: i => i switch
        {
            1 => new Dictionary<string, string> { ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = dashboardPorts[0].ToString() },
            3 => new Dictionary<string, string> { ["Dashboard:Enabled"] = "false", ["Dashboard:Port"] = dashboardPorts[1].ToString() },
            _ => new Dictionary<string, string>(),
        }) switch { var s => (s[0], s[1], s[2]) };
        await DashboardAnswersOnlyWhereEnabledAsync(dashboardPorts[0], dashboardPorts[1]);

        // The catalog is shared: a table made through silo 1 is there at once through silo 2.
        await ScalarAsync(s1, "CREATE TABLE cm_deploys (service VARCHAR NOT NULL, version VARCHAR)");
        Assert.Equal(0L, await ScalarAsync(s2, "SELECT count(*) FROM cm_deploys"));

        var writers = new ClusterWriters();
        writers.Start(3, () => [s1]);
        await PollAsync(() => s2.TableActivations() > 0 && writers.Acknowledged.Count > 200, TimeSpan.FromSeconds(60),
            () => $"silo 2 hosts {s2.TableActivations()} tables, {writers.Acknowledged.Count} rows acknowledged; {Describe(writers.Retried)}");

        // timefusion.silos: the three silos from Orleans' membership, silo 2 hosting table grains.
        var silo2 = $"127.0.0.1:{s2.SiloPort}";
        Assert.Equal(3L, await ScalarAsync(s3, "SELECT count(*) FROM timefusion.silos WHERE status = 'active'"));
        Assert.True(await ScalarAsync(s3, $"SELECT table_grains FROM timefusion.silos WHERE address = '{silo2}'") is long hosted && hosted > 0,
            "timefusion.silos shows no table grain on silo 2");

        Phase("SIGKILL silo 2");
        await s2.KillAsync();
        writers.Mark();
        // Silo 2's tables reopen on the others (recovering their WAL from Azure) once it is declared dead.
        await EveryProjectWritableAsync(writers, TimeSpan.FromSeconds(60), s1.Tail);
        // ... and timefusion.silos shows it dead, hosting nothing.
        await PollAsync(async () => await TryScalarAsync(s1, $"SELECT status || '/' || CAST(table_grains AS VARCHAR) FROM timefusion.silos WHERE address = '{silo2}'") is "dead/0",
            TimeSpan.FromSeconds(60), () => "timefusion.silos does not show silo 2 dead");
        Assert.Equal(2L, await ScalarAsync(s1, "SELECT count(*) FROM timefusion.silos WHERE status = 'active'"));
        await writers.StopAsync();

        Phase("writers stopped");
        writers.AssertExactlyOnce(await ClusterWriters.ReadAllIdsAsync(s3, TimeSpan.FromSeconds(60)));
        Phase("read back through silo 3");

        // The same cluster, whole again, then restarted silo by silo under write load.
        await s2.RestartAsync();
        Phase("silo 2 back");
        await RollingRestartUnderWriteLoadAsync([s1, s2, s3], writers);
    }

    [Fact]
    public async Task A_frozen_silo_declared_dead_is_fenced_and_nothing_is_lost_or_duplicated_even_across_a_full_cluster_restart()
    {
        // This cluster talks TLS between silos (a self-signed certificate, as in the README recipe).
        var certificate = Path.Combine(NewDataDirectory(), "cluster.pfx");
        using (var rsa = System.Security.Cryptography.RSA.Create(2048))
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=timefusion-cluster", rsa,
                System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            using var self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(certificate, self.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "secret"));
        }
        var silos = await StartSilosAsync(3, new Dictionary<string, string>
        {
            ["Cluster:TlsCertificatePath"] = certificate,
            ["Cluster:TlsCertificatePassword"] = "secret",
        });
        var (s1, s2, s3) = (silos[0], silos[1], silos[2]);

        // The catalog is shared: a table made through silo 1 is there at once through silo 2 (and, below, after a full restart).
        await ScalarAsync(s1, "CREATE TABLE cm_incidents (service VARCHAR NOT NULL, severity VARCHAR)");
        Assert.Equal(0L, await ScalarAsync(s2, "SELECT count(*) FROM cm_incidents"));
        await ScalarAsync(s3, "INSERT INTO cm_incidents (timestamp, service, severity) VALUES (now(), 'api', 'sev1'), (now(), 'web', 'sev2')");

        var writers = new ClusterWriters();
        // Writers through the survivors: every refusal they see during the fail-over must be retryable.
        writers.Start(3, () => [s1, s3]);
        await PollAsync(() => s2.TableActivations() > 0 && writers.Acknowledged.Count > 200, TimeSpan.FromSeconds(60),
            () => $"silo 2 hosts {s2.TableActivations()} tables, {writers.Acknowledged.Count} rows acknowledged; {Describe(writers.Retried)}");

        // Writers connected straight to silo 2, writing only to the tables it hosts: when it is frozen their statements
        // are in flight inside it, and they resume there after the thaw, against tables that have a new owner by then.
        var hosted = await HostedProjectsAsync(s1, s2);
        Assert.NotEmpty(hosted);
        var acknowledgedBefore = writers.Acknowledged.Count;
        writers.Start(2, () => [s2], hosted, anyErrorAllowed: true);
        await PollAsync(() => writers.Acknowledged.Count > acknowledgedBefore + 100, TimeSpan.FromSeconds(60),
            () => $"{writers.Acknowledged.Count - acknowledgedBefore} rows acknowledged since the writers to silo 2 started; {Describe(writers.Retried)}");

        Phase("SIGSTOP silo 2");
        await s2.FreezeAsync();
        writers.Mark();
        // Every project writable again means silo 2 was declared dead and its tables taken over (WAL leases broken,
        // ownership committed in Delta) while it was still frozen.
        await EveryProjectWritableAsync(writers, TimeSpan.FromSeconds(60), s1.Tail);
        Phase("SIGCONT silo 2");
        await s2.ThawAsync();
        // The thawed silo learns it was declared dead and stops itself; whatever it was writing is refused meanwhile.
        using (var exited = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await s2.WaitForExitAsync(exited.Token);
        Phase("silo 2 exited");
        // Its grains' writes after resuming (the statements in flight, the flushes that fell due while it was frozen)
        // were refused by the fencing, each logged by the stale grain.
        var refusals = s2.Log().Split('\n').Where(line => line.Contains("refused (fenced)", StringComparison.Ordinal)).ToList();
        output.WriteLine($"silo 2 logged {refusals.Count} fenced refusals:\n  {string.Join("\n  ", refusals.Take(10))}");
        output.WriteLine($"writers: retried {Describe(writers.Retried)}; rows refused with 40001: {writers.Refused.Count}; other errors: {string.Join(" | ", writers.Errors.Take(5))}");
        Assert.True(refusals.Count > 0, "the thawed silo logged no refused (fenced) write: " + s2.Tail());
        writers.Mark();
        // Writes keep flowing through the survivors (slowly on a loaded two-core machine: a generous deadline).
        await PollAsync(() => writers.BatchesSinceMark > 50, TimeSpan.FromSeconds(90),
            () => $"{writers.BatchesSinceMark} batches since silo 2 exited; retried {Describe(writers.Retried)}; unexpected {string.Join(" | ", writers.Unexpected.Take(5))}; {s1.Tail()}");
        await writers.StopAsync();
        if (writers.Unexpected.Count > 0 || writers.Errors.Count > 0)
        {
            // What the server logged for a statement it answered with an error no client can act on.
            foreach (var silo in silos)
                output.WriteLine($"{silo.Name} warnings and errors:\n{silo.Problems()}");
        }
        output.WriteLine($"non-retryable errors through the survivors: {string.Join(" | ", writers.Unexpected.Take(5))}");
        // Silo 2's tables were reopened from their WAL and Delta log by the other silos: both stayed valid, every
        // acknowledged row is there once, and no row of a write the fencing refused.
        var ids = await ClusterWriters.ReadAllIdsAsync(s1, TimeSpan.FromSeconds(60));
        writers.AssertExactlyOnce(ids);
        writers.AssertNoRefusedRowLanded(ids);

        // A full cluster restart: every silo down (two gracefully, one already gone), all three up again; the
        // catalog's table and every acknowledged row come back from Azure storage alone.
        Phase("stopping the cluster");
        await Task.WhenAll(s1.TerminateAsync(TimeSpan.FromSeconds(45)), s3.TerminateAsync(TimeSpan.FromSeconds(45)));
        Phase("cluster stopped");
        // One after another: three silos starting at once on a loaded two-core machine can be too slow to answer the
        // tuned 1 s probes of each other and vote one of themselves dead while it is still starting.
        foreach (var silo in silos) await silo.RestartAsync();
        Phase("cluster restarted");
        Assert.Equal(2L, await ScalarAsync(s2, "SELECT count(*) FROM cm_incidents"));
        ids = await ClusterWriters.ReadAllIdsAsync(s2, TimeSpan.FromSeconds(60));
        writers.AssertExactlyOnce(ids);
        writers.AssertNoRefusedRowLanded(ids);
        Phase("read back through silo 2 after the restart");
    }

    /// <summary>The writers' projects whose table grain <paramref name="host"/> holds, as <c>timefusion.tables</c> shows through <paramref name="through"/>.</summary>
    private static async Task<IReadOnlyList<string>> HostedProjectsAsync(ClusterSiloProcess through, ClusterSiloProcess host)
    {
        await using var connection = new NpgsqlConnection(through.ConnectionString());
        await connection.OpenAsync();
        // SiloAddress text: S<ip>:<port>:<generation>.
        await using var command = new NpgsqlCommand(
            $"SELECT project_id FROM timefusion.tables WHERE table_name = 'otel_logs_and_spans' AND silo LIKE 'S127.0.0.1:{host.SiloPort}:%' AND {ClusterWriters.AllProjects}",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        var projects = new List<string>();
        while (await reader.ReadAsync()) projects.Add(reader.GetString(0));
        return projects;
    }

    [Fact]
    public async Task A_silo_restarted_on_an_empty_disk_recovers_every_row_and_the_catalog_from_Azure()
    {
        var silo = (await StartSilosAsync(1))[0];
        await ScalarAsync(silo, "CREATE TABLE cm_releases (service VARCHAR NOT NULL, version VARCHAR)");
        await ScalarAsync(silo, "INSERT INTO cm_releases (timestamp, service, version) VALUES (now(), 'api', '1.2.3')");
        var writers = new ClusterWriters();
        writers.Start(2, () => [silo]);
        // Long enough for some tables to flush to Delta (MaxBufferAge 2 s) while newer rows are only in the WAL.
        await PollAsync(() => writers.Acknowledged.Count > 400 && silo.Log().Contains("flushed", StringComparison.Ordinal), TimeSpan.FromSeconds(60),
            () => $"{writers.Acknowledged.Count} rows; {Describe(writers.Retried)}; {silo.Tail()}");
        await silo.KillAsync();
        await writers.StopAsync();

        silo.DataDirectory = NewDataDirectory();
        await silo.RestartAsync();
        writers.AssertExactlyOnce(await ClusterWriters.ReadAllIdsAsync(silo, TimeSpan.FromSeconds(60)));
        Assert.Equal(1L, await ScalarAsync(silo, "SELECT count(*) FROM cm_releases WHERE version = '1.2.3'"));
    }

    /// <summary>
    /// SIGTERM and restart each silo in turn while writers write through every silo and a reader queries through each:
    /// every acknowledged row exactly once, every query answered correctly (all rows acknowledged before it) or
    /// refused with a retryable SQLSTATE.
    /// </summary>
    private async Task RollingRestartUnderWriteLoadAsync(ClusterSiloProcess[] silos, ClusterWriters previous)
    {
        var writers = new ClusterWriters(previous);
        writers.Start(3, () => silos);
        await PollAsync(() => writers.BatchesSinceMark > 20, TimeSpan.FromSeconds(60), () => Describe(writers.Retried));

        using var stopReading = new CancellationTokenSource();
        var readerFailures = new List<string>();
        var answered = 0;
        var reader = Task.Run(async () =>
        {
            for (var i = 0; !stopReading.IsCancellationRequested; i++)
            {
                var silo = silos[i % silos.Length];
                if (!silo.IsRunning) continue;
                var before = writers.Acknowledged.ToHashSet();
                try
                {
                    await using var connection = new NpgsqlConnection(silo.ConnectionString(5));
                    await connection.OpenAsync();
                    await using var command = new NpgsqlCommand($"SELECT id FROM otel_logs_and_spans WHERE {ClusterWriters.AllProjects}", connection);
                    await using var rows = await command.ExecuteReaderAsync();
                    var seen = new HashSet<string>();
                    while (await rows.ReadAsync())
                    {
                        if (!seen.Add(rows.GetString(0))) readerFailures.Add("duplicate " + rows.GetString(0));
                    }
                    if (!before.IsSubsetOf(seen)) readerFailures.Add($"a query missed {before.Except(seen).Count()} acknowledged rows");
                    answered++;
                }
                catch (PostgresException e) when (ClusterWriters.Retryable.Contains(e.SqlState))
                {
                }
                catch (PostgresException e)
                {
                    // An internal error's cause is only in that silo's log: keep what it logged with the failure.
                    var problems = silo.Problems();
                    readerFailures.Add($"{e.SqlState}: {e.MessageText} via {silo.Name}; its warnings and errors end with: {problems[Math.Max(0, problems.Length - 6000)..]}");
                }
                catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
                {
                    // The silo went down under the query: the connection broke (08006 on the client's side).
                }
                await Task.Delay(1000);
            }
        });

        foreach (var silo in silos)
        {
            Phase("SIGTERM " + silo.Name);
            await silo.TerminateAsync(TimeSpan.FromSeconds(45));
            Phase("stopped " + silo.Name);
            await silo.RestartAsync();
            Phase("restarted " + silo.Name);
            writers.Mark();
            await PollAsync(() => writers.BatchesSinceMark > 20, TimeSpan.FromSeconds(60), silo.Tail);
        }
        Phase("rolling restart done");
        await stopReading.CancelAsync();
        await reader;
        await writers.StopAsync();

        Assert.Empty(readerFailures);
        Assert.True(answered > 0, "no query was answered during the restart");
        writers.AssertExactlyOnce(await ClusterWriters.ReadAllIdsAsync(silos[1], TimeSpan.FromSeconds(60)));
    }
}
