using nietras.SeparatedValues;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Cli;

/// <summary><c>timefusion ingest</c> (and <c>gen</c> feeding it), run as child processes against a test server.</summary>
[Collection(CliCollection.Name)]
public sealed class CliIngestTests(CliServer server) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Rows(string project, int count, int badRow = -1) =>
        "id,timestamp,level,duration,project_id\n" + string.Concat(Enumerable.Range(1, count).Select(i =>
            $"r{i},2026-12-01T10:00:{i % 60:00}Z,INFO,{(i == badRow ? "12ms" : i.ToString())},{project}\n"));

    [Fact]
    public async Task A_bad_row_names_file_line_and_column_and_nothing_of_its_batch_lands()
    {
        // One batch for the whole file: the bad row (data row 3 = line 4) keeps every row out.
        var file = Write("bad.csv", Rows("cli-bad-one", 5, badRow: 3));
        var result = await server.RunAsync("ingest", file, "--table", "otel_logs_and_spans");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{file}, line 4, column 'duration': cannot read '12ms' as bigint", result.StdErr);
        Assert.Contains("nothing of its batch (rows 1–3) was sent; 0 rows landed before", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
        Assert.Empty(await server.CountsAsync("cli-bad-one"));

        // Batches of 2 rows: rows 1–2 landed, the batch holding row 3 did not, nothing after it was read.
        var batched = Write("bad2.csv", Rows("cli-bad-two", 6, badRow: 3));
        result = await server.RunAsync("ingest", batched, "--table", "otel_logs_and_spans", "--batch-rows", "2");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("line 4, column 'duration'", result.StdErr);
        Assert.Contains("2 rows landed before", result.StdErr);
        Assert.Equal(2, (await server.CountsAsync("cli-bad-two"))["cli-bad-two"]);
    }

    [Fact]
    public async Task A_bad_json_line_and_a_batch_the_server_refuses_are_named_too()
    {
        var jsonl = Write("bad.jsonl", "{\"id\":\"a\",\"timestamp\":\"2026-12-01T10:00:00Z\"}\n{\"id\":\"b\",\"timestamp\":\n");
        var result = await server.RunAsync("ingest", jsonl, "--table", "otel_logs_and_spans", "--project", "cli-bad-json");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{jsonl}, line 2: is not valid JSON", result.StdErr);
        Assert.Empty(await server.CountsAsync("cli-bad-json"));

        // Text may not hold NUL (as in PostgreSQL): the server refuses the batch; the error names the file and its rows.
        var nul = Write("nul.csv", "id,timestamp,level\na,2026-12-01T10:00:00Z,INFO\nb,2026-12-01T10:00:01Z,IN\0FO\n");
        result = await server.RunAsync("ingest", nul, "--table", "otel_logs_and_spans", "--project", "cli-bad-nul");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{nul}, rows 1–2 (project cli-bad-nul): ERROR: [22021]", result.StdErr);
        Assert.Contains("0 rows landed before", result.StdErr);
        Assert.Empty(await server.CountsAsync("cli-bad-nul"));
    }

    [Fact]
    public async Task Rows_go_to_their_project_id_and_files_without_one_to_the_project_option()
    {
        var routed = Write("routed.csv", "id,timestamp,project_id\na,2026-12-01T10:00:00Z,cli-route-a\nb,2026-12-01T10:00:01Z,cli-route-b\nc,2026-12-01T10:00:02Z,cli-route-a\n");
        var result = await server.RunAsync("ingest", routed, "--table", "otel_logs_and_spans");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("3 rows into otel_logs_and_spans (cli-route-a, cli-route-b)", result.StdOut);

        var plain = Write("plain.jsonl", "{\"id\":\"x\",\"timestamp\":\"2026-12-01T10:00:00Z\"}\n\n{\"id\":\"y\",\"timestamp\":\"2026-12-01T10:00:01Z\",\"duration\":3}\n");
        result = await server.RunAsync("ingest", plain, "--table", "otel_logs_and_spans", "--project", "cli-route-c");
        Assert.True(result.ExitCode == 0, result.ToString());

        var counts = await server.CountsAsync("cli-route-a", "cli-route-b", "cli-route-c");
        Assert.Equal(new Dictionary<string, long> { ["cli-route-a"] = 2, ["cli-route-b"] = 1, ["cli-route-c"] = 2 }, counts);
    }

    [Fact]
    public async Task A_column_the_table_lacks_or_a_project_the_user_may_not_write_is_an_error_naming_it()
    {
        var file = Write("extra.csv", "id,timestamp,colour\na,2026-12-01T10:00:00Z,red\n");
        var result = await server.RunAsync("ingest", file, "--table", "otel_logs_and_spans", "--project", "cli-extra");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{file}: column 'colour' is not in table 'otel_logs_and_spans'", result.StdErr);

        var other = Write("other.csv", "id,timestamp,project_id\na,2026-12-01T10:00:00Z,cli-not-bobs\n");
        result = await CliProcess.RunAsync(["ingest", other, "--table", "otel_logs_and_spans", "--server", server.Address, "--user", "cli-bob", "--password", "bobpw"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("[42501]", result.StdErr);
        Assert.Contains("cli-not-bobs", result.StdErr);
    }

    [Fact]
    public async Task Gen_files_round_trip_through_ingest_and_query_with_exact_counts()
    {
        const int rows = 3000;
        var expected = new List<long>();
        foreach (var ext in new[] { "csv", "parquet", "jsonl" })
        {
            string[] projects = [$"cli-rt-{ext}-a", $"cli-rt-{ext}-b"];
            var file = Path.Combine(_dir.Path, "gen." + ext);
            var gen = await CliProcess.RunAsync(["gen", "--rows", rows.ToString(), "--minutes", "30", "--end", "2026-12-01T12:00:00Z",
                "--seed", "7", "--projects", string.Join(',', projects), "--out", file]);
            Assert.True(gen.ExitCode == 0, gen.ToString());
            Assert.Contains($"wrote {rows} rows", gen.StdOut);

            var ingest = await server.RunAsync("ingest", file, "--table", "otel_logs_and_spans", "--batch-rows", "1000");
            Assert.True(ingest.ExitCode == 0, ingest.ToString());
            Assert.Contains($"{rows} rows into otel_logs_and_spans", ingest.StdOut);
            // Not a terminal: progress as plain lines with the rates.
            Assert.Matches(@"rows/s, [\d.]+ MB/s, ETA", ingest.StdErr);

            var counts = await server.CountsAsync(projects);
            Assert.Equal(rows, counts.Values.Sum());
            var perProject = projects.Select(p => counts.GetValueOrDefault(p)).ToList();
            Assert.All(perProject, n => Assert.True(n > 0));
            // The same seed makes the same rows in every format.
            if (expected.Count == 0) expected = perProject;
            else Assert.Equal(expected, perProject);

            if (ext == "csv")
            {
                using var reader = Sep.New(',').Reader(o => o with { Unescape = true }).FromFile(file);
                var inFile = new Dictionary<string, long>();
                foreach (var row in reader) inFile[row["project_id"].ToString()] = inFile.GetValueOrDefault(row["project_id"].ToString()) + 1;
                Assert.Equal(inFile.OrderBy(p => p.Key).Select(p => p.Value), projects.Select(p => counts[p]));
            }
        }

        // Spans and logs of one trace come back together (the quickstart's "a trace by id").
        var trace = await server.RunAsync("query",
            "SELECT context___trace_id AS t, count(*) AS n, count(parent_id) AS children, count(body) AS logs FROM otel_logs_and_spans " +
            "WHERE project_id = 'cli-rt-csv-a' GROUP BY 1 ORDER BY n DESC LIMIT 1", "--format", "csv");
        var fields = CliServer.CsvLines(trace.StdOut)[1];
        Assert.True(long.Parse(fields[2]) > 0 && long.Parse(fields[3]) > 0, trace.ToString());
    }
}
