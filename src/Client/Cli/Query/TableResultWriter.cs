using Spectre.Console;
using TimeFusion.Client.Cli.Flight;
using TimeFusion.Client.Sdk;

namespace TimeFusion.Client.Cli.Query;

/// <summary>
/// A readable table (Spectre.Console). The table needs every row for its column widths, so the result is read whole:
/// for large results use <c>--format csv</c> or <c>json</c>, which stream.
/// </summary>
public sealed class TableResultWriter : IResultWriter
{
    /// <inheritdoc />
    public async Task<long> WriteAsync(QueryStream result, CancellationToken ct)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var field in result.Schema.FieldsList) table.AddColumn(new TableColumn(new Text(field.Name, new Style(decoration: Decoration.Bold))));
        long rows = 0;
        await foreach (var batch in result.Batches.WithCancellation(ct))
        {
            for (var r = 0; r < batch.Length; r++, rows++)
            {
                var cells = new Text[batch.ColumnCount];
                for (var c = 0; c < batch.ColumnCount; c++)
                    cells[c] = batch.Column(c).IsNull(r) ? new Text("NULL", new Style(Color.Grey)) : new Text(ArrowText.Format(batch.Column(c), r));
                table.AddRow(cells);
            }
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        // Redirected output has no width of its own: never wrap cells.
        if (Console.IsOutputRedirected) console.Profile.Width = 100_000;
        console.Write(table);
        return rows;
    }
}
