using nietras.SeparatedValues;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Cli;

/// <summary><c>timefusion gen</c> to files (no server): deterministic, and shaped like real telemetry.</summary>
[Collection(CliCollection.Name)] // one command-line process at a time: the suite shares two cores
public sealed class CliGenTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<string> GenAsync(string name, params string[] args)
    {
        var path = Path.Combine(_dir.Path, name);
        var result = await CliProcess.RunAsync(["gen", "--out", path, "--end", "2026-12-01T12:00:00Z", .. args]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return path;
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_file_and_another_seed_another()
    {
        var a = await GenAsync("a.csv", "--rows", "2000", "--seed", "3");
        var b = await GenAsync("b.csv", "--rows", "2000", "--seed", "3");
        var c = await GenAsync("c.csv", "--rows", "2000", "--seed", "4");
        Assert.Equal(await File.ReadAllBytesAsync(a), await File.ReadAllBytesAsync(b));
        Assert.NotEqual(await File.ReadAllBytesAsync(a), await File.ReadAllBytesAsync(c));
    }

    [Fact]
    public async Task Traces_have_parent_child_spans_correlated_logs_errors_and_several_projects()
    {
        var path = await GenAsync("t.csv", "--minutes", "3", "--rate", "10", "--seed", "11");
        var rows = new List<Dictionary<string, string>>();
        using (var reader = Sep.New(',').Reader(o => o with { Unescape = true }).FromFile(path))
        {
            var names = reader.Header.ColNames;
            foreach (var row in reader)
            {
                var values = new Dictionary<string, string>();
                foreach (var n in names) values[n] = row[n].ToString();
                rows.Add(values);
            }
        }
        // About 10 traces a second for 3 minutes.
        var traces = rows.GroupBy(r => r["context___trace_id"]).ToList();
        Assert.InRange(traces.Count, 1200, 2400);
        Assert.All(rows, r => Assert.InRange(DateTime.Parse(r["timestamp"]).ToUniversalTime(), new DateTime(2026, 12, 1, 11, 57, 0, DateTimeKind.Utc), new DateTime(2026, 12, 1, 12, 1, 0, DateTimeKind.Utc)));

        foreach (var trace in traces.Take(200))
        {
            var spans = trace.Where(r => r["kind"] != "").ToList();
            var spanIds = spans.Select(s => s["context___span_id"]).ToHashSet();
            Assert.Single(spans, s => s["parent_id"] == "");                                    // one root
            Assert.All(spans.Where(s => s["parent_id"] != ""), s => Assert.Contains(s["parent_id"], spanIds)); // parents in the trace
            Assert.All(trace.Where(r => r["kind"] == ""), l => Assert.Contains(l["context___span_id"], spanIds)); // logs point at spans
            Assert.Single(trace.Select(r => r["project_id"]).Distinct());
        }
        Assert.True(rows.Select(r => r["resource___service___name"]).Distinct().Count() >= 4);
        Assert.Equal(3, rows.Select(r => r["project_id"]).Distinct().Count());
        var errors = rows.Count(r => r["status_code"] == "ERROR");
        Assert.InRange(errors, 1, rows.Count / 5);
        Assert.Contains(rows, r => r["level"] == "ERROR" && r["kind"] == "" && r["attributes___exception___type"] != "");

        // Long tail: the slowest root spans are many times the median.
        var durations = traces.Select(t => long.Parse(t.Single(s => s["kind"] == "SERVER" && s["parent_id"] == "")["duration"])).Order().ToList();
        Assert.True(durations[^1] > 5 * durations[durations.Count / 2], $"max {durations[^1]} median {durations[durations.Count / 2]}");
    }
}
