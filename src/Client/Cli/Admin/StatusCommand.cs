using System.CommandLine;
using Spectre.Console;
using TimeFusion.Client.Cli.Flight;

namespace TimeFusion.Client.Cli.Admin;

/// <summary><c>timefusion status</c>: the server's silos and tables (see <see cref="ServerStatusSource"/> for what is shown).</summary>
public static class StatusCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(GlobalOptions global)
    {
        var command = new Command("status", "Show the server's silos and tables: rows, buffered rows and bytes, WAL bytes, last flush");
        command.SetAction(async (parse, ct) =>
        {
            var settings = global.Read(parse);
            using var connection = new FlightConnection(settings);
            var sections = await new ServerStatusSource(connection).ReadAsync(ct);
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            if (Console.IsOutputRedirected) console.Profile.Width = 100_000;
            console.WriteLine($"server {settings.Server} (user {settings.User})");
            foreach (var section in sections)
            {
                console.WriteLine();
                console.Write(new Text(section.Title + "\n", new Style(decoration: Decoration.Bold)));
                if (section.Columns.Count > 0)
                {
                    var table = new Table().Border(TableBorder.Rounded);
                    foreach (var column in section.Columns) table.AddColumn(new TableColumn(new Text(column)));
                    foreach (var row in section.Rows) table.AddRow(row.Select(v => new Text(v)).ToArray());
                    console.Write(table);
                }
                if (section.Note is not null) console.Write(new Text(section.Note + "\n", new Style(Color.Grey)));
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
