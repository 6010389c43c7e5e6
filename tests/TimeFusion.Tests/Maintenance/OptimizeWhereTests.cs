using TimeFusion.Query.Planning;
using TimeFusion.Query.Statements;

namespace TimeFusion.Tests.Maintenance;

/// <summary>What <c>OPTIMIZE … WHERE</c> accepts (date, timestamp ranges mapped to date partitions, project_id) and what it refuses (0A000 naming it).</summary>
public sealed class OptimizeWhereTests
{
    private static readonly DateOnly Dec1 = new(2026, 12, 1), Dec2 = new(2026, 12, 2), Dec3 = new(2026, 12, 3);

    [Theory]
    [InlineData("OPTIMIZE t WHERE date >= '2026-12-01' AND date < DATE '2026-12-04'", "2026-12-01", "2026-12-03")]
    [InlineData("OPTIMIZE t WHERE date BETWEEN '2026-12-01'::date AND '2026-12-03'", "2026-12-01", "2026-12-03")]
    [InlineData("OPTIMIZE t WHERE timestamp >= '2026-12-01 10:00:00' AND timestamp < '2026-12-04'", "2026-12-01", "2026-12-03")]
    [InlineData("OPTIMIZE t WHERE timestamp > TIMESTAMP '2026-12-01 23:59:59.999999' AND timestamp <= '2026-12-03 00:00:00'", "2026-12-01", "2026-12-03")]
    [InlineData("OPTIMIZE t WHERE timestamp BETWEEN TIMESTAMPTZ '2026-12-02 01:00:00+02:00' AND '2026-12-03 12:00'::timestamptz", "2026-12-01", "2026-12-03")]
    [InlineData("OPTIMIZE t WHERE timestamp = '2026-12-02T08:30:00Z' AND project_id = 'p'", "2026-12-02", "2026-12-02")]
    [InlineData("OPTIMIZE t WHERE timestamp >= '2026-12-02' AND date <= '2026-12-02'", "2026-12-02", "2026-12-02")]
    public void Date_and_timestamp_ranges_select_the_date_partitions_they_touch(string sql, string from, string to)
    {
        var s = MaintenanceStatementParser.ParseOptimize(sql);
        Assert.Equal("t", s.Table);
        Assert.Equal(DateOnly.Parse(from, System.Globalization.CultureInfo.InvariantCulture), s.FromDate);
        Assert.Equal(DateOnly.Parse(to, System.Globalization.CultureInfo.InvariantCulture), s.ToDate);
    }

    [Fact]
    public void Open_ranges_and_projects()
    {
        var s = MaintenanceStatementParser.ParseOptimize("OPTIMIZE TABLE public.t WHERE timestamp < '2026-12-02' AND project_id IN ('a', 'b') AND project_id = 'b'");
        Assert.Null(s.FromDate);
        Assert.Equal(Dec1, s.ToDate);
        Assert.Equal(["b"], s.Projects!);
        s = MaintenanceStatementParser.ParseOptimize("OPTIMIZE t WHERE timestamp > '2026-12-03 00:00:00'");
        Assert.Equal((Dec3, (DateOnly?)null), (s.FromDate!.Value, s.ToDate));
        Assert.Equal((Dec2, Dec2), (MaintenanceStatementParser.ParseOptimize("OPTIMIZE t WHERE date = '2026-12-02'").FromDate!.Value, Dec2));
    }

    [Theory]
    [InlineData("OPTIMIZE t WHERE level = 'INFO'", "\"level\"")]
    [InlineData("OPTIMIZE t WHERE date >= '2026-12-01' OR project_id = 'p'", "OR")]
    [InlineData("OPTIMIZE t WHERE NOT date = '2026-12-01'", "NOT")]
    [InlineData("OPTIMIZE t WHERE (date = '2026-12-01')", "parentheses")]
    [InlineData("OPTIMIZE t WHERE date <> '2026-12-01'", "'<>'")]
    [InlineData("OPTIMIZE t WHERE timestamp != '2026-12-01'", "'!='")]
    public void Anything_else_is_refused_with_0A000_naming_it(string sql, string named)
    {
        var e = Assert.Throws<SqlPlanningException>(() => MaintenanceStatementParser.ParseOptimize(sql));
        Assert.Equal("0A000", e.SqlState);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OPTIMIZE t WHERE timestamp >= 'yesterday'", "22007")]
    [InlineData("OPTIMIZE t WHERE date >= '2026-12-01 10:00'", "22007")]
    [InlineData("OPTIMIZE t WHERE timestamp >=", "42601")]
    public void Bad_literals_and_syntax(string sql, string state) =>
        Assert.Equal(state, Assert.Throws<SqlPlanningException>(() => MaintenanceStatementParser.ParseOptimize(sql)).SqlState);
}
