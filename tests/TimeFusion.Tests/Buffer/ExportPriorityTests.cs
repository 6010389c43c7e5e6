using TimeFusion.Buffer;
using TimeFusion.DuckDb;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// A flush's (background) export runs on a thread at <see cref="BufferOptions.ExportNice"/>, whichever writer it takes, so
/// that acknowledgements get a contended core first; a COPY's spill (foreground) at normal priority; the caller's thread
/// is never lowered.
/// </summary>
public class ExportPriorityTests
{
    private static readonly TableId Id = new("p1", "small");
    private static readonly DateTimeOffset Start = new(2024, 3, 5, 22, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, true, true)]
    [InlineData(7, true, true)]
    [InlineData(7, false, true)]
    [InlineData(19, false, true)]
    [InlineData(7, true, false)]
    [InlineData(7, false, false)]
    public async Task The_export_thread_runs_at_the_configured_niceness(int nice, bool arrowWriter, bool background)
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open(o => o.ExportNice = nice);
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        table.UseArrowWriter = arrowWriter;
        var before = LowPriorityThread.CurrentThreadNice();
        await table.AppendAsync(BufferTestDatabase.SmallBatch(1_000, "r", first: 0, start: Start), 1, default);

        var files = await table.ExportParquetAsync(1, dir.Path, default, background: background);

        Assert.Single(files);
        Assert.Equal(arrowWriter, table.LastExportUsedArrowWriter);
        // Lowered only where this process may raise it again (root here).
        Assert.Equal(background && ExportPriority.CanRaise ? nice : 0, table.LastExportNice);
        Assert.Equal(before, LowPriorityThread.CurrentThreadNice());
    }

    [Theory]
    [InlineData(499, 0.5, 7)]
    [InlineData(500, 0.5, 0)]
    [InlineData(900, 0.5, 0)]
    [InlineData(249, 0.25, 7)]
    [InlineData(250, 0.25, 0)]
    [InlineData(499, 0.25, 0)]
    [InlineData(999, 1.0, 7)]
    public async Task A_flush_falling_behind_runs_at_normal_priority(int rows, double fraction, int expected)
    {
        // FallingBehindFraction of TailRows buffered or more (half by default): the export must catch up before the tail
        // moves into DuckDB, and a closed loop must not outrun lowered flushes.
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open(o => (o.ExportNice, o.TailRows, o.FallingBehindFraction) = (7, 1_000, fraction));
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(rows, "r", first: 0, start: Start), 1, default);
        Assert.Equal(rows, table.TailRows);

        await table.ExportParquetAsync(1, dir.Path, default);

        Assert.True(table.LastExportUsedArrowWriter);
        Assert.Equal(ExportPriority.CanRaise ? expected : 0, table.LastExportNice);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void A_falling_behind_fraction_outside_0_to_1_is_refused(double fraction)
    {
        var options = new BufferOptions { FallingBehindFraction = fraction };
        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(nameof(BufferOptions.FallingBehindFraction), e.ParamName);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(20)]
    public void A_niceness_outside_0_to_19_is_refused(int nice)
    {
        var options = new BufferOptions { ExportNice = nice };
        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(nameof(BufferOptions.ExportNice), e.ParamName);
    }
}
