using TimeFusion.Engine;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Dml;

public sealed class EngineDmlPlanTests : EngineTestBase
{
    private static readonly TableId Id = new("proj-plan", "events");

    [Fact]
    public async Task A_dml_applies_with_its_time_range_leaving_files_outside_it_unread_and_untouched()
    {
        await using var engine = await Kit.OpenAsync(Id);
        await engine.InsertAsync(EngineTestKit.Rows("a", 100));
        await engine.InsertAsync(EngineTestKit.Rows("b", 100, durationBase: 1000));
        await engine.FlushAsync();
        var day2 = engine.DeltaSnapshot.Files.Where(f => f.PartitionValues["date"] == "2026-11-25").Select(f => f.Path).ToList();
        Assert.Single(day2);

        // Rows of 2026-11-24 (i % 4 != 0) with duration % 10 = 0: i in {10, 30, 50, 70, 90} of each batch.
        var day1 = new TimeRange(EngineTestKit.T0 - 1000, EngineTestKit.T0 + 1_000_000);
        // The predicate alone would also match day-2 rows (i in {0, 20, 40, 60, 80}); the range says day 1 only, and
        // the day-2 file is not even read — which shows as its rows surviving.
        Assert.Equal(10, await engine.DeleteAsync("duration % 10 = 0", day1));
        using (var s = engine.OpenSnapshot())
        {
            var path = await Kit.Objects.GetLocalPathAsync(s.Delta.ObjectPath(s.Delta.Files.Single(f => f.Path == day2.Single())));
            Assert.Equal(10L, Convert.ToInt64(s.Buffer.QueryScalar($"SELECT count(*) FROM read_parquet({SqlNames.Literal(path)}) WHERE duration % 10 = 0")));
        }
        Assert.Contains(day2.Single(), engine.DeltaSnapshot.Files.Select(f => f.Path));

        Assert.Equal(10, await engine.UpdateAsync("id LIKE 'a-%' AND duration % 10 = 5 AND date = DATE '2026-11-24'",
            [new("service", "upper(coalesce(service, 'none'))")], day1));
        Assert.Contains(day2.Single(), engine.DeltaSnapshot.Files.Select(f => f.Path));
        Assert.Equal(190, engine.DeltaSnapshot.Files.Sum(f => f.GetStats()!.NumRecords));
        using (var s = engine.OpenSnapshot())
            Assert.Equal((190L, 190L), ((await Kit.CountAsync(s)).Rows, (await Kit.CountAsync(s)).DistinctIds));
        // Two statements, each reading the one file of day 1 only.
        Assert.Equal(2, engine.DmlFilesRead);
    }
}
