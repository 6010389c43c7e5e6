using System.Text.Json;

namespace TimeFusion.Bench.Suite;

/// <summary>The suite's figures as JSON (benchmarks.json): machine, options, and every figure with its samples.</summary>
public static class JsonReport
{
    public static void Write(string path, SuiteResults results)
    {
        var document = new
        {
            machine = results.Machine,
            options = new
            {
                rows = results.Options.Rows, ingestRows = results.Options.IngestRows, runs = results.Options.Runs,
                batchRows = results.Options.BatchRows, fanOutRows = results.Options.FanOutRows,
                recoveryWalBytes = results.Options.RecoveryWalBytes, postgres = results.Options.Postgres,
            },
            elapsedSeconds = results.Elapsed.TotalSeconds,
            figures = results.Figures.Select(f => new
            {
                section = f.Section, subject = f.Subject, metric = f.Metric, rows = f.Rows,
                median = Finite(f.Median), min = Finite(f.Min), max = Finite(f.Max), samples = f.Samples.Select(Finite).ToArray(),
                target = f.Target, met = f.Met,
            }),
            notes = results.Notes.Select(n => new { section = n.Section, text = n.Text }),
            missing = results.Missing,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
