using TimeFusion.Grains;

namespace TimeFusion.Query.Statements;

/// <summary>One silo of the cluster as <c>timefusion.silos</c> shows it.</summary>
/// <param name="Silo">The silo's identity as <c>timefusion.tables.silo</c> names it (address and generation).</param>
/// <param name="Address">Its silo-to-silo endpoint (host:port).</param>
/// <param name="Name">Its Orleans silo name.</param>
/// <param name="HostName">The machine it runs on.</param>
/// <param name="Status">Its membership status, lower case: <c>joining</c>, <c>active</c>, <c>shutting_down</c>, <c>stopping</c>, <c>dead</c>.</param>
/// <param name="StartTime">When it started.</param>
/// <param name="IAmAliveTime">When it last wrote its heartbeat into the membership table.</param>
public sealed record SiloMembership(string Silo, string Address, string Name, string HostName, string Status, DateTimeOffset StartTime, DateTimeOffset IAmAliveTime);

/// <summary>
/// The system view <c>timefusion.silos</c>: one row per silo in the cluster's membership (dead ones too, until Orleans
/// cleans them up), with the table grains it hosts and their buffered rows and bytes and WAL bytes summed. Admins only
/// (it shows the cluster's addresses and every project's load).
/// </summary>
public static class SystemSilosView
{
    /// <summary>The view's columns and their DuckDB types, in order.</summary>
    public static readonly IReadOnlyList<(string Name, string Type)> Columns =
    [
        ("silo", "VARCHAR"), ("address", "VARCHAR"), ("name", "VARCHAR"), ("host_name", "VARCHAR"), ("status", "VARCHAR"),
        ("start_time", "TIMESTAMPTZ"), ("i_am_alive", "TIMESTAMPTZ"), ("table_grains", "BIGINT"), ("buffered_rows", "BIGINT"),
        ("buffered_bytes", "BIGINT"), ("wal_bytes", "BIGINT"),
    ];

    private static readonly SystemView View = new("silos", Columns);

    /// <summary>Whether <paramref name="sql"/> names <c>timefusion.silos</c>.</summary>
    public static bool References(string sql) => View.References(sql);

    /// <summary>
    /// Rewrites every reference to <c>timefusion.silos</c> in <paramref name="sql"/> as a subquery over the
    /// <paramref name="silos"/>, each with the <paramref name="tables"/> it hosts summed (a table grain on a silo missing
    /// from the membership list is not shown).
    /// </summary>
    public static string Rewrite(string sql, IReadOnlyList<SiloMembership> silos, IReadOnlyList<TableGrainStatus> tables)
    {
        var bySilo = tables.GroupBy(t => t.Silo).ToDictionary(g => g.Key, g => (Grains: (long)g.Count(),
            Rows: g.Sum(t => t.BufferedRows), Bytes: g.Sum(t => t.BufferedBytes), Wal: g.Sum(t => t.WalBytes)));
        var rows = silos.Select(s =>
        {
            var load = bySilo.GetValueOrDefault(s.Silo);
            return new object?[] { s.Silo, s.Address, s.Name, s.HostName, s.Status, s.StartTime, s.IAmAliveTime, load.Grains, load.Rows, load.Bytes, load.Wal };
        }).ToList();
        return View.Rewrite(sql, rows);
    }
}
