using System.CommandLine;
using TimeFusion.Client.Cli.Flight;

namespace TimeFusion.Client.Cli.Admin;

/// <summary><c>timefusion flush [TABLE]</c>: persists buffered rows to Delta now (the <c>execute</c> action with <c>FLUSH</c>).</summary>
public static class FlushCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(GlobalOptions global)
    {
        var table = new Argument<string?>("table") { Description = "one table (default: every table)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("flush", "Persist every buffered row to Delta now") { table };
        command.SetAction(async (parse, ct) =>
        {
            using var connection = new FlightConnection(global.Read(parse));
            var name = parse.GetValue(table);
            var started = System.Diagnostics.Stopwatch.StartNew();
            var rows = await connection.ExecuteAsync(name is null ? "FLUSH" : $"FLUSH {name}", ct);
            Console.WriteLine($"flushed {rows} row{(rows == 1 ? "" : "s")} to Delta ({(name is null ? "all tables" : name)}) in {started.Elapsed.TotalSeconds:0.00} s");
            return ExitCodes.Ok;
        });
        return command;
    }
}
