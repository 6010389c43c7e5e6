using TimeFusion.Grains;

namespace TimeFusion.Query.Statements;

/// <summary>
/// The system view <c>timefusion.tables</c>: one row per (project, table) the caller may read, from each table grain's
/// <see cref="TableGrainStatus"/> (served as a <see cref="SystemView"/>).
/// </summary>
public static class SystemTablesView
{
    /// <summary>The view's columns and their DuckDB types, in order.</summary>
    public static readonly IReadOnlyList<(string Name, string Type)> Columns =
    [
        ("project_id", "VARCHAR"), ("table_name", "VARCHAR"), ("delta_version", "BIGINT"), ("files", "BIGINT"), ("bytes", "BIGINT"),
        ("rows", "BIGINT"), ("small_files", "BIGINT"), ("buffered_rows", "BIGINT"), ("buffered_bytes", "BIGINT"), ("wal_bytes", "BIGINT"),
        ("last_flush", "TIMESTAMPTZ"), ("last_optimize", "TIMESTAMPTZ"), ("last_vacuum", "TIMESTAMPTZ"), ("retention", "VARCHAR"), ("silo", "VARCHAR"),
        ("quarantined_wal_regions", "BIGINT"), ("quarantined_wal_bytes", "BIGINT"), ("open_transactions", "BIGINT"), ("staged_bytes", "BIGINT"),
    ];

    private static readonly SystemView View = new("tables", Columns);

    /// <summary>Whether <paramref name="sql"/> names <c>timefusion.tables</c>.</summary>
    public static bool References(string sql) => View.References(sql);

    /// <summary>Rewrites every reference to <c>timefusion.tables</c> in <paramref name="sql"/> as a subquery over <paramref name="rows"/>.</summary>
    public static string Rewrite(string sql, IReadOnlyList<TableGrainStatus> rows) => View.Rewrite(sql, rows.Select(Values).ToList());

    /// <summary>The rows as a SELECT of typed literals (an empty, typed relation when there are none).</summary>
    public static string Relation(IReadOnlyList<TableGrainStatus> rows) => View.Relation(rows.Select(Values).ToList());

    private static object?[] Values(TableGrainStatus s) =>
    [
        s.Project, s.Table, s.DeltaVersion, s.Files, s.Bytes, s.Rows, s.SmallFiles, s.BufferedRows, s.BufferedBytes, s.WalBytes,
        s.LastFlush, s.LastOptimize, s.LastVacuum, s.Retention is { } t ? FormatRetention(t) : null, s.Silo,
        s.QuarantinedWalRegions, s.QuarantinedWalBytes, (long)s.OpenTransactions, s.StagedBytes,
    ];

    /// <summary>A retention as text: <c>30 days</c>, <c>12 hours</c>, <c>90 minutes</c>.</summary>
    public static string FormatRetention(TimeSpan t) =>
        t.Ticks % TimeSpan.TicksPerDay == 0 ? $"{t.Days} days"
        : t.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(long)t.TotalHours} hours"
        : $"{(long)t.TotalMinutes} minutes";
}
