using System.CommandLine;
using TimeFusion.Client.Cli.Admin;
using TimeFusion.Client.Cli.Query;
using TimeFusion.Client.Cli.Serve;

namespace TimeFusion.Client.Cli;

/// <summary>
/// The <c>timefusion</c> command line: <c>serve</c>, <c>gen</c>, <c>ingest</c>, <c>query</c>, <c>flush</c>, <c>status</c>.
/// Exit codes: 0 ok, 1 error (one line on stderr, never a stack trace), 2 usage.
/// </summary>
public static class CliApp
{
    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand Create()
    {
        var global = new GlobalOptions();
        var root = new RootCommand("TimeFusion: a time-series database for logs, spans and metrics");
        global.AddTo(root);
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(Gen.GenCommand.Create(global));
        root.Subcommands.Add(Ingest.IngestCommand.Create(global));
        root.Subcommands.Add(QueryCommand.Create(global));
        root.Subcommands.Add(FlushCommand.Create(global));
        root.Subcommands.Add(StatusCommand.Create(global));
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Create().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) await Console.Error.WriteLineAsync("timefusion: " + error.Message);
            await Console.Error.WriteLineAsync("Try 'timefusion --help'.");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync("timefusion: " + e.Message);
            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("timefusion: cancelled");
            return ExitCodes.Error;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync("timefusion: " + e.Message);
            return ExitCodes.Error;
        }
    }
}
