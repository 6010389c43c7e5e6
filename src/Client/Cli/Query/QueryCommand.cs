using System.CommandLine;
using TimeFusion.Client.Cli.Flight;

namespace TimeFusion.Client.Cli.Query;

/// <summary><c>timefusion query "SQL" [--format table|csv|json]</c>: runs one SELECT over Flight and prints its rows.</summary>
public static class QueryCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(GlobalOptions global)
    {
        var sql = new Argument<string>("sql") { Description = "one SELECT statement" };
        var format = new Option<string>("--format", "-f")
        {
            Description = "table (for people), csv or json (for scripts)",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "csv", "json");
        var command = new Command("query", "Run a SQL query and print its rows") { sql, format };
        command.SetAction(async (parse, ct) =>
        {
            using var connection = new FlightConnection(global.Read(parse));
            var result = await connection.QueryAsync(parse.GetValue(sql)!, ct);
            IResultWriter writer = parse.GetValue(format) switch
            {
                "csv" => new CsvResultWriter(Console.Out),
                "json" => new JsonResultWriter(Console.OpenStandardOutput()),
                _ => new TableResultWriter(),
            };
            var rows = await writer.WriteAsync(result, ct);
            if (writer is TableResultWriter) await Console.Error.WriteLineAsync($"({rows} row{(rows == 1 ? "" : "s")})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
