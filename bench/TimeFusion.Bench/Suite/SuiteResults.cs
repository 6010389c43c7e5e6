namespace TimeFusion.Bench.Suite;

/// <summary>Everything one suite run measured: the machine, the settings and the figures, in the order taken.</summary>
public sealed class SuiteResults
{
    public required MachineInfo Machine { get; init; }

    public required SuiteOptions Options { get; init; }

    public List<Figure> Figures { get; } = [];

    /// <summary>Notes per section (what was measured how, sizes, caveats), in order.</summary>
    public List<(string Section, string Text)> Notes { get; } = [];

    /// <summary>Parts that did not run, with why.</summary>
    public List<string> Missing { get; } = [];

    public TimeSpan Elapsed { get; set; }

    public Figure Add(string section, string subject, string metric, IReadOnlyList<double> samples, long rows = 0, string? target = null, bool? met = null)
    {
        var figure = new Figure(section, subject, metric, samples) { Rows = rows, Target = target, Met = met };
        Figures.Add(figure);
        Console.WriteLine($"  [{section}] {subject} — {metric}: {MarkdownReport.Format(figure)}");
        return figure;
    }

    public void Note(string section, string text) => Notes.Add((section, text));

    public Figure? Find(string section, string subject, string metric) =>
        Figures.LastOrDefault(f => f.Section == section && f.Subject == subject && f.Metric == metric);
}
