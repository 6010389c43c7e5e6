using System.Text.Json;

namespace TimeFusion.Tests.Cli;

/// <summary><c>timefusion query</c>, <c>flush</c>, <c>status</c> and the error paths, each run as a child process.</summary>
[Collection(CliCollection.Name)]
public sealed class CliQueryTests(CliServer server)
{
    private async Task SeedAsync(string project)
    {
        using var dir = new Infrastructure.TempDirectory();
        var csv = Path.Combine(dir.Path, "rows.csv");
        await File.WriteAllTextAsync(csv,
            "id,timestamp,level,duration,hashes,body\n" +
            "q1,2026-12-01T10:00:00Z,INFO,5,\"{a,b}\",\"{\"\"msg\"\":\"\"hi, there\"\"}\"\n" +
            "q2,2026-12-01T10:00:01.5Z,ERROR,,,\n");
        var result = await server.RunAsync("ingest", csv, "--table", "otel_logs_and_spans", "--project", project);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task Csv_and_json_output_parse_back_to_the_rows()
    {
        await SeedAsync("cli-query-formats");
        const string sql = "SELECT id, level, duration, hashes, timestamp FROM otel_logs_and_spans WHERE project_id = 'cli-query-formats' AND id IN ('q1', 'q2') ORDER BY id";

        var csv = await server.RunAsync("query", sql, "--format", "csv");
        Assert.True(csv.ExitCode == 0, csv.ToString());
        var lines = csv.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["id,level,duration,hashes,timestamp", "q1,INFO,5,\"{a,b}\",2026-12-01 10:00:00.000000+00:00", "q2,ERROR,,,2026-12-01 10:00:01.500000+00:00"], lines);

        var json = await server.RunAsync("query", sql, "--format", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var rows = JsonDocument.Parse(json.StdOut).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal("q1", rows[0].GetProperty("id").GetString());
        Assert.Equal(5, rows[0].GetProperty("duration").GetInt64());
        Assert.Equal(["a", "b"], rows[0].GetProperty("hashes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(new DateTime(2026, 12, 1, 10, 0, 1, 500, DateTimeKind.Utc), rows[1].GetProperty("timestamp").GetDateTime().ToUniversalTime());
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("duration").ValueKind);
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("hashes").ValueKind);
    }

    [Fact]
    public async Task Table_output_shows_the_values_and_the_row_count()
    {
        await SeedAsync("cli-query-table");
        var result = await server.RunAsync("query", "SELECT id, body FROM otel_logs_and_spans WHERE project_id = 'cli-query-table' AND id = 'q1'");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("│ id", result.StdOut);
        Assert.Contains("q1", result.StdOut);
        Assert.Contains("{\"msg\":\"hi, there\"}", result.StdOut);
        Assert.Contains("(1 row)", result.StdErr);
    }

    [Fact]
    public async Task A_sql_error_is_one_line_with_its_sqlstate_and_exit_code_1()
    {
        var result = await server.RunAsync("query", "SELEC 1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("[42601]", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
        Assert.Equal("", result.StdOut);
    }

    [Fact]
    public async Task A_wrong_password_is_reported_as_a_failed_login()
    {
        var result = await CliProcess.RunAsync(["query", "SELECT 1", "--server", server.Address, "--user", "timefusion", "--password", "wrong"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"login to {server.Address} as 'timefusion' failed", result.StdErr);
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_reported_at_once_with_the_address()
    {
        var port = Infrastructure.FreePorts.Take(1)[0];
        var result = await CliProcess.RunAsync(["query", "SELECT 1", "--server", $"grpc://127.0.0.1:{port}"], timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot reach the TimeFusion server at grpc://127.0.0.1:{port}", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
        // The whole process (start-up of dotnet included) ends in seconds: nothing waits for the absent server.
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(10), result.ToString());
    }

    [Theory]
    [InlineData("query")]                                  // missing SQL
    [InlineData("query", "SELECT 1", "--format", "xml")]    // not a format
    [InlineData("query", "SELECT 1", "--no-such-option")]
    [InlineData("ingest", "x.csv")]                         // missing --table
    [InlineData("frobnicate")]
    public async Task Usage_errors_exit_with_2(params string[] args)
    {
        var result = await CliProcess.RunAsync(args);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("timefusion --help", result.StdErr);
    }

    [Fact]
    public async Task Flush_persists_the_buffered_rows_and_status_lists_the_tables()
    {
        await SeedAsync("cli-query-flush");
        var flush = await server.RunAsync("flush");
        Assert.True(flush.ExitCode == 0, flush.ToString());
        Assert.Matches(@"^flushed \d+ rows? to Delta \(all tables\)", flush.StdOut);
        Assert.True(Directory.EnumerateFiles(server.DataDirectory, "*.parquet", SearchOption.AllDirectories).Any(), "a flush writes Parquet files");

        var status = await server.RunAsync("status");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains($"server {server.Address}", status.StdOut);
        Assert.Contains("otel_logs_and_spans", status.StdOut);
        Assert.Contains("Silos", status.StdOut);
        // The server reports per-table figures (timefusion.tables) and the silos hosting the grains.
        Assert.Contains("buffered_rows", status.StdOut);
        Assert.Contains("wal_bytes", status.StdOut);
        Assert.Contains("table_grains", status.StdOut);
        Assert.Contains("cli-query-flush", status.StdOut);
        Assert.DoesNotContain("not reported", status.StdOut);
    }

    [Fact]
    public async Task Gen_sends_otlp_to_the_real_receiver_and_every_row_lands()
    {
        var result = await CliProcess.RunAsync(["gen", "--rows", "3000", "--minutes", "5", "--seed", "11", "--end", "2026-12-01T12:00:00Z",
            "--projects", "cli-otlp-a,cli-otlp-b", "--to", server.OtlpAddress, "--user", "timefusion", "--password", CliServer.AdminPassword]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("sent 3000 rows", result.StdOut);
        var counts = await server.CountsAsync("cli-otlp-a", "cli-otlp-b");
        Assert.Equal(3000, counts.Values.Sum());
        Assert.Equal(2, counts.Count);
        // Spans keep their trace: every span of a trace arrived with the same lower-case hex trace id.
        var traces = await server.RunAsync("query",
            "SELECT count(DISTINCT context___trace_id) AS traces, count(*) FILTER (WHERE length(context___trace_id) <> 32) AS bad " +
            "FROM otel_logs_and_spans WHERE project_id IN ('cli-otlp-a', 'cli-otlp-b') AND kind <> 'LOG'", "--format", "csv");
        Assert.True(traces.ExitCode == 0, traces.ToString());
        var row = CliServer.CsvLines(traces.StdOut)[1];
        Assert.True(long.Parse(row[0]) > 0, traces.StdOut);
        Assert.Equal("0", row[1]);
    }
}
