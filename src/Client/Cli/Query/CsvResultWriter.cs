using nietras.SeparatedValues;
using TimeFusion.Client.Cli.Flight;
using TimeFusion.Client.Sdk;

namespace TimeFusion.Client.Cli.Query;

/// <summary>RFC 4180 CSV (Sep): a header line, then one line per row; NULL is an empty field. Streams batch by batch.</summary>
public sealed class CsvResultWriter(TextWriter output) : IResultWriter
{
    /// <inheritdoc />
    public async Task<long> WriteAsync(QueryStream result, CancellationToken ct)
    {
        var names = UniqueNames(result.Schema.FieldsList.Select(f => f.Name).ToList());
        using var writer = Sep.New(',').Writer(o => o with { Escape = true }).To(output, leaveOpen: true);
        writer.Header.Add(names);
        writer.Header.Write();
        long rows = 0;
        await foreach (var batch in result.Batches.WithCancellation(ct))
        {
            for (var r = 0; r < batch.Length; r++, rows++)
            {
                using var row = writer.NewRow();
                for (var c = 0; c < batch.ColumnCount; c++) row[names[c]].Set(ArrowText.Format(batch.Column(c), r));
            }
        }
        writer.Flush();
        await output.FlushAsync(ct);
        return rows;
    }

    // Sep addresses columns by name; a result may repeat one (SELECT count(*), count(*)).
    private static string[] UniqueNames(List<string> names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return names.Select(n =>
        {
            var name = n;
            for (var i = 2; !seen.Add(name); i++) name = $"{n}_{i}";
            return name;
        }).ToArray();
    }
}
