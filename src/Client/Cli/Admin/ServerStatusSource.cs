using System.Globalization;
using Apache.Arrow;
using TimeFusion.Client.Cli.Flight;
using TimeFusion.Client.Sdk;

namespace TimeFusion.Client.Cli.Admin;

/// <summary>One part of <c>timefusion status</c>: a titled table, or a note when the server does not report it.</summary>
public sealed record StatusSection(string Title, IReadOnlyList<string> Columns, IReadOnlyList<string[]> Rows, string? Note = null);

/// <summary>
/// Where <c>timefusion status</c> gets its figures — the one place to change when the server reports more. It reads the
/// SQL views <c>timefusion.silos</c> (the cluster's silos from Orleans' membership, with the table grains each hosts;
/// admins only) and <c>timefusion.tables</c> (per table buffered rows and bytes, WAL bytes, last flush) when the server
/// has them; otherwise it lists the tables (ListFlights) with rows and newest timestamp per
/// project from plain SQL, and says that buffer and WAL figures are not reported.
/// </summary>
public sealed class ServerStatusSource(FlightConnection connection)
{
    /// <summary>The sections to show.</summary>
    public async Task<IReadOnlyList<StatusSection>> ReadAsync(CancellationToken ct)
    {
        // Dead silos stay in Orleans' membership until it cleans them up: the live ones first.
        var silos = await TryViewAsync("Silos",
            "SELECT address, name, status, start_time, table_grains, buffered_rows, buffered_bytes, wal_bytes FROM timefusion.silos " +
            "ORDER BY status <> 'active', start_time DESC", ct);
        var tables = await TryViewAsync("Tables", "SELECT * FROM timefusion.tables ORDER BY table_name, project_id", ct);
        return
        [
            silos ?? new StatusSection("Silos", [], [], "not reported (timefusion.silos is for admins, or this server has no such view)"),
            tables ?? await TablesFromSqlAsync(ct),
        ];
    }

    private async Task<StatusSection?> TryViewAsync(string title, string sql, CancellationToken ct)
    {
        try
        {
            return await SectionAsync(title, sql, ct);
        }
        catch (CliException e) when (e.Message.StartsWith("ERROR:", StringComparison.Ordinal))
        {
            return null; // the view does not exist on this server
        }
    }

    private async Task<StatusSection> TablesFromSqlAsync(CancellationToken ct)
    {
        var rows = new List<string[]>();
        foreach (var info in (await connection.ListTablesAsync(ct)).OrderBy(i => string.Join('.', i.Descriptor.Paths), StringComparer.Ordinal))
        {
            var table = info.Descriptor.Paths.Last();
            var section = await SectionAsync(table,
                $"SELECT project_id, count(*) AS total_rows, max(timestamp) AS newest FROM {table} GROUP BY project_id ORDER BY project_id", ct);
            if (section.Rows.Count == 0) rows.Add([table, "", "0", ""]);
            rows.AddRange(section.Rows.Select(r => new[] { table, r[0], r[1], r[2] }));
        }
        return new StatusSection("Tables", ["table", "project", "rows", "newest"], rows,
            "buffered rows and bytes, WAL bytes and last flush are not reported by this server (it has no timefusion.tables view)");
    }

    private async Task<StatusSection> SectionAsync(string title, string sql, CancellationToken ct)
    {
        var result = await connection.QueryAsync(sql, ct);
        var rows = new List<string[]>();
        await foreach (var batch in result.Batches.WithCancellation(ct))
            for (var r = 0; r < batch.Length; r++)
                rows.Add(Enumerable.Range(0, batch.ColumnCount).Select(c => Format(batch.Column(c), r)).ToArray());
        return new StatusSection(title, result.Schema.FieldsList.Select(f => f.Name).ToList(), rows);
    }

    private static string Format(IArrowArray array, int row) => array is Int64Array a && !a.IsNull(row)
        ? a.GetValue(row)!.Value.ToString("N0", CultureInfo.InvariantCulture)
        : ArrowText.Format(array, row);
}
