using System.Diagnostics;
using TimeFusion.Engine;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;

namespace TimeFusion.Tests.Dml;

/// <summary>
/// A DELETE's cancellation (the statement timeout, a cancel request, a lost client: the grain passes the statement's
/// token) interrupts DuckDB while the statement is checked on the buffer or its Delta files rewritten, and nothing of it
/// applies; the table takes the next statement at once.
/// </summary>
public sealed class DmlCancellationTests : EngineTestBase
{
    // levenshtein over two ~400-character strings per row: tens of microseconds to milliseconds a row, many seconds
    // for the table unless interrupted.
    private const string Slow = "levenshtein(repeat(id, 60), repeat(reverse(id), 60)) >= 0";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_slow_delete_stops_at_its_cancellation_and_changes_nothing(bool flushed)
    {
        await using var engine = await Kit.OpenAsync(new TableId("proj-cancel", "events"));
        for (var i = 0; i < 10; i++) await engine.InsertAsync(EngineTestKit.Rows("r" + i, 3_000));
        if (flushed) await engine.FlushAsync();

        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.DeleteAsync(Slow, cancellationToken: timeout.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the DELETE stopped {clock.Elapsed.TotalSeconds:F1} s after it started (cancelled at 0.5 s)");

        // Nothing applied, and the table takes the next DML (it waits for the flush lock the first one held).
        Assert.Equal(1, await engine.DeleteAsync("id = 'r0-1'"));
        Assert.Equal(29_999, await CountAsync(engine));
    }

    private async Task<long> CountAsync(TableEngine engine)
    {
        using var snapshot = engine.OpenSnapshot();
        var files = new List<string>();
        foreach (var add in snapshot.Delta.Files) files.Add(await Kit.Objects.GetLocalPathAsync(snapshot.Delta.ObjectPath(add)));
        var delta = files.Count == 0 ? "" : $" UNION ALL SELECT id FROM read_parquet([{string.Join(", ", files.Select(SqlNames.Literal))}])";
        using var cmd = snapshot.Buffer.Connection.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM (SELECT id FROM {snapshot.Buffer.Relation}{delta})";
        return Convert.ToInt64(cmd.ExecuteScalar()!);
    }
}
