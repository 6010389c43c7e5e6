using System.CommandLine;
using System.Diagnostics;
using TimeFusion.Client.Cli.Flight;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>
/// <c>timefusion ingest FILE… --table T [--project P]</c>: streams CSV, Parquet or JSON-lines files into a table over
/// Arrow Flight DoPut in batches (never loading a file whole), each batch converted to the table's types first. A batch
/// with a row that does not convert is not sent at all; the error names the file, the line or row and the column.
/// </summary>
public static class IngestCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(GlobalOptions global)
    {
        var files = new Argument<string[]>("files") { Description = "CSV (with header), Parquet or JSON-lines files", Arity = ArgumentArity.OneOrMore };
        var table = new Option<string>("--table", "-t") { Description = "the target table", Required = true };
        var project = new Option<string?>("--project") { Description = "project for files without a project_id column (default: your default project)" };
        var batchRows = new Option<int>("--batch-rows") { Description = "rows per batch (one atomic write)", DefaultValueFactory = _ => 16_384 };
        var command = new Command("ingest", "Load CSV, Parquet or JSON-lines files into a table") { files, table, project, batchRows };
        command.SetAction(async (parse, ct) =>
        {
            using var connection = new FlightConnection(global.Read(parse));
            var job = new IngestJob(connection, parse.GetValue(table)!, parse.GetValue(project), Math.Max(1, parse.GetValue(batchRows)));
            var paths = parse.GetValue(files)!;
            foreach (var path in paths)
            {
                if (!File.Exists(path)) throw new CliException($"{path}: no such file");
                FileFormats.Of(path);
            }
            Func<IIngestProgress, Task<int>> run = async progress =>
            {
                foreach (var path in paths)
                {
                    var started = Stopwatch.StartNew();
                    var (rows, bytes, projects) = await job.RunAsync(path, progress, ct);
                    var seconds = Math.Max(started.Elapsed.TotalSeconds, 1e-3);
                    Console.Out.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"{path}: {rows} rows into {job.Table} ({string.Join(", ", projects)}) in {seconds:0.00} s, {rows / seconds:N0} rows/s, {bytes / seconds / 1e6:0.0} MB/s"));
                }
                return ExitCodes.Ok;
            };
            return Console.IsErrorRedirected ? await run(new PlainProgress(Console.Error)) : await SpectreProgress.RunAsync(run);
        });
        return command;
    }
}
