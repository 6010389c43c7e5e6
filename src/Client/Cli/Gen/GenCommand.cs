using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace TimeFusion.Client.Cli.Gen;

/// <summary>
/// <c>timefusion gen [--minutes M] [--rate R | --rows N] [--projects a,b] [--seed S] (--out FILE | --to URL)</c>:
/// realistic demo telemetry (<see cref="TelemetryGenerator"/>) into a CSV, Parquet or JSON-lines file (by extension),
/// or to a server's OTLP/HTTP receiver (<see cref="OtlpHttpWriter"/>).
/// </summary>
public static class GenCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(GlobalOptions global)
    {
        var minutes = new Option<double>("--minutes", "-m") { Description = "time span covered, ending now (or at --end)", DefaultValueFactory = _ => 10 };
        var rate = new Option<double>("--rate") { Description = "traces per second (each about 8 rows)", DefaultValueFactory = _ => 5 };
        var rows = new Option<long?>("--rows", "-n") { Description = "exactly this many rows (spread over the time span)" };
        var projects = new Option<string>("--projects") { Description = "comma-separated projects; the first gets most traffic", DefaultValueFactory = _ => "default,shop-staging,payments-prod" };
        var seed = new Option<int>("--seed") { Description = "random seed (same seed and --end: same rows)", DefaultValueFactory = _ => 42 };
        var end = new Option<DateTime?>("--end") { Description = "end of the time span, UTC (default: now, to the minute)" };
        var output = new Option<string?>("--out", "-o") { Description = "file to write: .csv, .parquet or .jsonl" };
        var to = new Option<string?>("--to") { Description = "send to a server's OTLP/HTTP receiver instead, e.g. http://127.0.0.1:4318 (uses --user/--password)" };
        var command = new Command("gen", "Generate realistic demo telemetry (spans and logs of services calling each other)")
        {
            minutes, rate, rows, projects, seed, end, output, to,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(output) is null == parse.GetValue(to) is null) throw new CliException("give either --out FILE or --to URL", ExitCodes.Usage);
            if (parse.GetValue(minutes) <= 0 || parse.GetValue(rate) <= 0 || parse.GetValue(rows) is <= 0)
                throw new CliException("--minutes, --rate and --rows must be positive", ExitCodes.Usage);
            var spanEnd = parse.GetValue(end)?.ToUniversalTime() ?? Floor(DateTime.UtcNow);
            var span = TimeSpan.FromMinutes(parse.GetValue(minutes));
            var maxRows = parse.GetValue(rows);
            var perSecond = maxRows is { } n ? n / 8.0 / span.TotalSeconds : parse.GetValue(rate);
            var settings = new GenSettings(spanEnd - span, spanEnd, perSecond, maxRows,
                parse.GetValue(projects)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), parse.GetValue(seed));
            if (settings.Projects.Count == 0) throw new CliException("--projects names no project", ExitCodes.Usage);
            var path = parse.GetValue(output);
            var target = parse.GetValue(to);
            await using var writer = path is not null ? OpenFile(path) : new OtlpHttpWriter(ParseUrl(target!), global.Read(parse));
            var generator = new TelemetryGenerator(settings);
            var started = Stopwatch.StartNew();
            long written = 0;
            foreach (var record in generator.Generate())
            {
                await writer.WriteAsync(record, ct);
                written++;
            }
            await writer.CompleteAsync(ct);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(path is null ? "sent" : "wrote")} {written} rows ({generator.Traces} traces, {settings.Start:yyyy-MM-dd HH:mm} to {settings.End:yyyy-MM-dd HH:mm} UTC, projects {string.Join(", ", settings.Projects)}) to {path ?? target} in {started.Elapsed.TotalSeconds:0.00} s{(writer is OtlpHttpWriter otlp ? $" ({otlp.Spans} spans, {otlp.Logs} log records)" : "")}"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Uri ParseUrl(string text) =>
        Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new CliException($"--to '{text}' is not an http(s) URL like http://127.0.0.1:4318", ExitCodes.Usage);

    private static DateTime Floor(DateTime t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc);

    private static ITelemetryWriter OpenFile(string path) => FileFormats.Of(path) switch
    {
        FileFormat.Csv => new CsvTelemetryWriter(path),
        FileFormat.Parquet => new ParquetTelemetryWriter(path),
        _ => new JsonLinesTelemetryWriter(path),
    };
}
