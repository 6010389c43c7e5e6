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
        Assert.Equal(background ? nice : 0, table.LastExportNice);
        Assert.Equal(before, LowPriorityThread.CurrentThreadNice());
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
