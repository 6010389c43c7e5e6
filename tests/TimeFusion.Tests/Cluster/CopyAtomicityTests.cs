using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.TestingHost;
using TimeFusion.Buffer;
using TimeFusion.Grains;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Security;
using TimeFusion.Tests.Protocol.Postgres;

namespace TimeFusion.Tests.Cluster;

/// <summary>
/// COPY is one statement, streamed: on a silo whose whole memory budget (32 MiB) is a fraction of the COPY, it lands whole
/// with the hard limit held; a bad row at the very end of many chunks, a CopyFail, a client cancel (psql's Ctrl-C) or a
/// client that disappears mid-COPY leave nothing of it, not even the chunks that came first.
/// </summary>
public sealed class CopyAtomicityTests(SmallBudgetCluster fixture) : IClassFixture<SmallBudgetCluster>, IAsyncLifetime
{
    private const string Project = "copy-atomic";
    private static readonly string Padding = new('x', 200);
    private ClusterPostgresEndpoint _endpoint = null!;
    private NpgsqlDataSource _source = null!;

    public async Task InitializeAsync()
    {
        // Chunks of 2,000 rows: each far below the 32 MiB hard limit, the big COPY many times above it.
        _endpoint = await ClusterPostgresEndpoint.StartAsync(fixture.Client,
            new PostgresServerOptions { Port = 0, CopyBatchRows = 2_000 },
            new TimeFusionUser { Name = "copier", PasswordOrScramSecret = "pw", Projects = [Project] });
        _source = NpgsqlDataSource.Create($"Host=127.0.0.1;Port={_endpoint.Port};Username=copier;Password=pw;Database=timefusion");
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _endpoint.DisposeAsync();
    }

    private static string Row(string prefix, int i) => $"{prefix}-{i}\t2026-11-24 10:00:{i % 60:00}+00\tINFO\t\"{Padding}\"";

    private async Task<long> CountAsync(string prefix)
    {
        await using var conn = await _source.OpenConnectionAsync();
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM otel_logs_and_spans WHERE id LIKE '{prefix}-%'", conn);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private MemoryBudget Budget => ((InProcessSiloHandle)fixture.Cluster.Silos[0]).SiloHost.Services.GetRequiredService<BufferDatabase>().Budget;

    [Fact]
    public async Task A_copy_many_times_the_memory_budget_lands_whole_with_the_hard_limit_held()
    {
        const int rows = 120_000; // ~30 MB of text, ~90 MB as buffered rows, against a 32 MiB budget
        await using (var conn = await _source.OpenConnectionAsync())
        await using (var copy = await conn.BeginTextImportAsync("COPY otel_logs_and_spans (id, timestamp, level, body) FROM STDIN"))
            for (var i = 0; i < rows; i++) await copy.WriteLineAsync(Row("big", i));
        Assert.Equal(rows, await CountAsync("big"));
        Assert.True(Budget.PeakUsedBytes <= SmallBudgetCluster.HardLimit, $"peak {Budget.PeakUsedBytes} over the hard limit");
        // Spilled as it streamed: many files, none of it waiting in the buffer.
        var status = await fixture.Client.GetGrain<ITableGrain>(TableGrainKey.Format(Project, "otel_logs_and_spans")).GetStatusAsync();
        Assert.True(status.Files > 3, $"{status.Files} files");
        Assert.Equal(0, status.BufferedRows);
    }

    [Fact]
    public async Task A_bad_row_at_the_very_end_of_many_chunks_leaves_nothing()
    {
        var before = await CountAsync("tail");
        await using var conn = await _source.OpenConnectionAsync();
        var e = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var copy = await conn.BeginTextImportAsync("COPY otel_logs_and_spans (id, timestamp, level, body) FROM STDIN");
            for (var i = 0; i < 10_000; i++) await copy.WriteLineAsync(Row("tail", i)); // five chunks, then the bad row
            await copy.WriteLineAsync("tail-bad\tnot a timestamp\tINFO\tx");
        });
        Assert.Equal("22P02", e.SqlState); // invalid_text_representation, as PostgreSQL says
        Assert.Equal(before, await CountAsync("tail"));
        Assert.Equal(0, before);
    }

    [Fact]
    public async Task A_copy_fail_mid_copy_leaves_nothing()
    {
        await using var conn = await _source.OpenConnectionAsync();
        var copy = await conn.BeginTextImportAsync("COPY otel_logs_and_spans (id, timestamp, level, body) FROM STDIN");
        for (var i = 0; i < 5_000; i++) await copy.WriteLineAsync(Row("fail", i));
        await copy.FlushAsync();
        await copy.CancelAsync(); // CopyFail (Npgsql swallows the server's 57014 answer)
        try
        {
            await copy.DisposeAsync();
        }
        catch (ObjectDisposedException)
        {
            // Npgsql already ended the COPY with the CopyFail.
        }
        await using (var check = new NpgsqlCommand("SELECT 1", conn)) Assert.Equal(1, await check.ExecuteScalarAsync()); // the session goes on
        Assert.Equal(0, await CountAsync("fail"));
    }

    [Fact]
    public async Task A_client_cancel_or_disconnect_mid_copy_leaves_nothing()
    {
        foreach (var (prefix, signal) in new[] { ("cancel", "INT"), ("gone", "KILL") })
        {
            using var psql = StartPsqlCopy();
            for (var i = 0; i < 5_000; i++) await psql.StandardInput.WriteLineAsync(Row(prefix, i));
            await psql.StandardInput.FlushAsync();
            // Some chunks staged, the COPY still open: psql's Ctrl-C sends a cancel request; SIGKILL drops the connection.
            await WaitForStagedRowsAsync();
            using (var kill = Process.Start("kill", [$"-{signal}", psql.Id.ToString()])) await kill!.WaitForExitAsync();
            if (signal == "INT") psql.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await psql.WaitForExitAsync(timeout.Token);
            Assert.NotEqual(0, psql.ExitCode);
            await WaitForNoOpenCopyAsync();
            Assert.Equal(0, await CountAsync(prefix));
        }
    }

    private Process StartPsqlCopy()
    {
        var info = new ProcessStartInfo(File.Exists(PsqlRunner.PsqlPath) ? PsqlRunner.PsqlPath : "psql")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        info.Environment["PGPASSWORD"] = "pw";
        info.ArgumentList.Add($"host=127.0.0.1 port={_endpoint.Port} user=copier dbname=timefusion");
        info.ArgumentList.Add("-X");
        info.ArgumentList.Add("-w");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("COPY otel_logs_and_spans (id, timestamp, level, body) FROM STDIN");
        var process = Process.Start(info) ?? throw new InvalidOperationException("psql did not start");
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    private ITableGrain Grain => fixture.Client.GetGrain<ITableGrain>(TableGrainKey.Format(Project, "otel_logs_and_spans"));

    /// <summary>Waits until the COPY's transaction is open on the table grain (its first chunks staged).</summary>
    private async Task WaitForStagedRowsAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if ((await Grain.GetStatusAsync()).OpenTransactions > 0) return;
            await Task.Delay(20);
        }
        throw new TimeoutException("no transaction was opened");
    }

    private async Task WaitForNoOpenCopyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if ((await Grain.GetStatusAsync()).OpenTransactions == 0) return;
            await Task.Delay(20);
        }
        throw new TimeoutException("the COPY's transaction stayed open");
    }
}
