using TimeFusion.Tests.Protocol.Postgres;
using System.Diagnostics;
using System.Text;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using Xunit.Abstractions;
using TimeFusion.Tests.Abuse;

namespace TimeFusion.Tests.Streaming;

/// <summary>One real server for the streaming tests: alice's project holds one row, so that a join with range(n) is a
/// query one table grain answers whole — the shape that streams.</summary>
public sealed class StreamingSiloFixture : IAsyncLifetime
{
    /// <summary>The server (MaxResultBytes 64 MiB, two statements per user).</summary>
    public AbuseSilo Silo { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Silo = await AbuseSilo.StartAsync();
        await using var c = await Silo.ConnectAsync("alice");
        await using var insert = new NpgsqlCommand("INSERT INTO otel_logs_and_spans (id, timestamp, level) VALUES ('alice-0', now(), 'INFO')", c);
        await insert.ExecuteNonQueryAsync();
    }

    /// <inheritdoc />
    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// Issue 14 finding 7 on a real server process: a result many times larger than <c>TimeFusion:Execution:MaxResultBytes</c>
/// streams through Npgsql, psql, Flight and cursors in bounded memory, its first rows arrive while DuckDB is still
/// producing, and a client that cancels, disconnects or stops reading frees the statement (its per-user slot: the
/// server allows <see cref="AbuseSilo.StatementsPerUser"/> at once, and each test abandons more streams than that).
/// </summary>
public sealed class StreamingResultTests(StreamingSiloFixture fixture, ITestOutputHelper output) : IClassFixture<StreamingSiloFixture>
{
    /// <summary>About 1 KB a row; one table grain answers it.</summary>
    private static string Wide(long rows) => $"SELECT repeat('x', 1000) || r.range::varchar AS s FROM otel_logs_and_spans, range({rows}) r";

    /// <summary>A result that never ends (a trillion rows): only a stream can give its first rows.</summary>
    private const string Endless = "SELECT r.range AS n FROM otel_logs_and_spans, range(1000000000000) r";

    /// <summary>
    /// How far a test's peak resident set may rise above the resident set at its start. The large PostgreSQL results
    /// below are 600 MiB or more of rows, so a server that held one whole would pass it; a stream holds a few batches
    /// (and the runtime's garbage, which a loaded machine collects later).
    /// </summary>
    private const long GrowthBound = 448L << 20;

    /// <summary>Starts measuring this test's own peak: the resident set now, the peak reset to it.</summary>
    private long StartPeak()
    {
        var before = Silo.StatusBytes("VmRSS");
        Silo.ResetPeak();
        return before;
    }

    private void AssertPeakGrowth(long before, string what)
    {
        var peak = Silo.StatusBytes("VmHWM");
        Assert.True(peak - before < GrowthBound, $"peak RSS {peak >> 20} MiB, {(peak - before) >> 20} MiB above the {before >> 20} MiB at the start, {what}");
    }

    private AbuseSilo Silo => fixture.Silo;

    [Fact]
    public async Task Npgsql_reads_a_result_five_times_the_statement_limit_in_bounded_memory()
    {
        const long rows = 640_000;
        await using var alice = await Silo.ConnectAsync("alice");
        var before = StartPeak();
        await using var command = new NpgsqlCommand(Wide(rows), alice);
        var clock = Stopwatch.StartNew();
        TimeSpan? first = null;
        long read = 0, bytes = 0;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                first ??= clock.Elapsed;
                bytes += reader.GetString(0).Length;
                read++;
            }
        }
        var peak = Silo.StatusBytes("VmHWM");
        output.WriteLine($"{read} rows, {bytes >> 20} MiB in {clock.Elapsed.TotalSeconds:F1} s, first row after {first?.TotalMilliseconds:F0} ms, peak RSS {peak >> 20} MiB");
        Assert.Equal(rows, read);
        Assert.True(bytes > 9 * AbuseSilo.MaxResultBytes && bytes > 600L << 20, $"only {bytes >> 20} MiB read");
        AssertPeakGrowth(before, $"streaming {bytes >> 20} MiB of rows (MaxResultBytes {AbuseSilo.MaxResultBytes >> 20} MiB)");
    }

    [Fact]
    public async Task The_first_rows_of_an_endless_result_arrive_and_a_cancel_request_frees_the_statement()
    {
        for (var i = 0; i <= AbuseSilo.StatementsPerUser; i++)
        {
            await using var alice = await Silo.ConnectAsync("alice");
            await using var command = new NpgsqlCommand(Endless, alice);
            var clock = Stopwatch.StartNew();
            // Npgsql reports its own cancel as an OperationCanceledException around the server's 57014.
            var thrown = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var reader = await command.ExecuteReaderAsync();
                for (var n = 0L; await reader.ReadAsync(); n++)
                {
                    Assert.Equal(n, reader.GetInt64(0));
                    if (n == 1000)
                    {
                        output.WriteLine($"1,000 rows after {clock.ElapsedMilliseconds} ms");
                        command.Cancel();
                    }
                }
            });
            var error = thrown as PostgresException ?? Assert.IsType<PostgresException>(thrown.InnerException);
            Assert.Equal("57014", error.SqlState);
        }
        await SameUserAnswersAsync();
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_frees_the_statement()
    {
        for (var i = 0; i <= AbuseSilo.StatementsPerUser; i++)
        {
            // psql's \copy streams what the server sends; killing it mid-stream drops the connection.
            using var psql = Psql($"\\copy ({Endless}) TO STDOUT");
            for (var n = 0; n < 1000; n++)
                Assert.Equal(n.ToString(), await psql.StandardOutput.ReadLineAsync());
            psql.Kill();
            await psql.WaitForExitAsync();
        }
        await SameUserAnswersAsync();
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_let_go_at_its_statement_timeout()
    {
        var stuck = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < AbuseSilo.StatementsPerUser; i++)
            {
                var alice = await Silo.ConnectAsync("alice");
                stuck.Add(alice);
                await using (var timeout = new NpgsqlCommand("SET statement_timeout = '2s'", alice)) await timeout.ExecuteNonQueryAsync();
                var command = new NpgsqlCommand(Endless, alice);
                var reader = await command.ExecuteReaderAsync();
                Assert.True(await reader.ReadAsync()); // then never reads again: the server's writes block
            }
            // Both of alice's slots are held by streams nobody reads; the server lets them go at their timeout.
            await SameUserAnswersAsync();
        }
        finally
        {
            // The connections are closed by the server; disposing them reads nothing more.
            foreach (var c in stuck)
            {
                try { await c.CloseAsync(); } catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException) { }
            }
        }
    }

    [Fact]
    public async Task Psql_copies_out_a_result_larger_than_the_statement_limit()
    {
        const int rows = 640_000;
        var before = StartPeak();
        using var psql = Psql($"\\copy ({Wide(rows)}) TO STDOUT");
        long lines = 0, bytes = 0;
        while (await psql.StandardOutput.ReadLineAsync() is { } line)
        {
            lines++;
            bytes += line.Length;
        }
        await psql.WaitForExitAsync();
        Assert.True(psql.ExitCode == 0, await psql.StandardError.ReadToEndAsync());
        Assert.Equal(rows, lines);
        Assert.True(bytes > 600L << 20, $"only {bytes >> 20} MiB");
        AssertPeakGrowth(before, $"copying out {bytes >> 20} MiB");
    }

    [Fact]
    public async Task Fetch_from_a_cursor_over_an_endless_result_pulls_only_what_it_asks_for()
    {
        await using var alice = await Silo.ConnectAsync("alice");
        var before = StartPeak();
        await using var tx = await alice.BeginTransactionAsync();
        await using (var declare = new NpgsqlCommand($"DECLARE c CURSOR FOR {Endless}", alice, tx)) await declare.ExecuteNonQueryAsync();
        for (var round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            var values = new List<long>();
            await using (var fetch = new NpgsqlCommand("FETCH 10 FROM c", alice, tx))
            await using (var reader = await fetch.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync()) values.Add(reader.GetInt64(0));
            }
            output.WriteLine($"FETCH 10 in {clock.ElapsedMilliseconds} ms");
            Assert.Equal(Enumerable.Range(round * 10, 10).Select(v => (long)v), values);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"FETCH 10 took {clock.Elapsed.TotalSeconds:F1} s");
        }
        await using (var close = new NpgsqlCommand("CLOSE c", alice, tx)) await close.ExecuteNonQueryAsync();
        await tx.CommitAsync();
        AssertPeakGrowth(before, "fetching from a cursor over an endless result");
        await SameUserAnswersAsync();
    }

    [Fact]
    public async Task Flight_streams_a_large_result_and_a_client_that_goes_away_frees_the_statement()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{Silo.FlightPort}");
        var client = new FlightClient(channel);
        var headers = new Metadata { { "authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:pw")) } };

        const int rows = 150_000;
        var before = StartPeak();
        long read = 0;
        using (var call = client.GetStream(new FlightTicket(Wide(rows)), headers))
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                using var batch = call.ResponseStream.Current;
                read += batch.Length;
            }
        }
        Assert.Equal(rows, read);

        for (var i = 0; i <= AbuseSilo.StatementsPerUser; i++)
        {
            using var call = client.GetStream(new FlightTicket(Endless), headers);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            call.ResponseStream.Current.Dispose();
            // Disposing the call resets the HTTP/2 stream: the server's DoGet sees its call cancelled.
        }
        await SameUserAnswersAsync();
        AssertPeakGrowth(before, $"streaming {rows} rows over Flight");
    }

    /// <summary>
    /// Alice's statements after the abandoned ones: each waits for one of her two slots, so if an abandoned stream
    /// still held one, these would queue and fail with 53400 after the queue timeout (10 s).
    /// </summary>
    private async Task SameUserAnswersAsync()
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i <= AbuseSilo.StatementsPerUser; i++)
        {
            await using var alice = await Silo.ConnectAsync("alice");
            await using var count = new NpgsqlCommand("SELECT count(*) FROM otel_logs_and_spans", alice);
            Assert.Equal(1L, Convert.ToInt64(await count.ExecuteScalarAsync()));
        }
        output.WriteLine($"alice's next statements answered in {clock.ElapsedMilliseconds} ms");
    }

    private Process Psql(string command) => PsqlRunner.Start(Silo.PostgresPort, "timefusion", "alice", "pw", "-q", "-c", command);
}
