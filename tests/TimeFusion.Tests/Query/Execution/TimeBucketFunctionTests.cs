using TimeFusion.Query.Execution;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;

namespace TimeFusion.Tests.Query.Execution;

public sealed class TimeBucketFunctionTests : EngineTestBase
{
    [Theory]
    [InlineData("INTERVAL '5 minutes'")]
    [InlineData("INTERVAL '90 seconds'")]
    [InlineData("INTERVAL '1 day'")]
    [InlineData("INTERVAL '7 days'")]
    [InlineData("'1 hour'")]
    [InlineData("INTERVAL '1 month'")]
    public async Task The_integer_time_bucket_equals_duckdbs_own_for_every_row(string width)
    {
        TimeBucketFunction.Install(Kit.Buffer);
        await using var engine = await Kit.OpenAsync(new TableId("tb", "events"));
        using var snapshot = engine.OpenSnapshot();
        // 200,000 instants 37 s apart from 1999-12-01: before and after the 2000-01-03 origin, across months.
        var mismatches = snapshot.Buffer.QueryScalar(
            $"SELECT count(*) FROM (SELECT TIMESTAMPTZ '1999-12-01 00:00:00+00' + i * INTERVAL '37 seconds' AS ts FROM range(200000) t(i)) " +
            $"WHERE time_bucket({width}, ts) IS DISTINCT FROM system.main.time_bucket(CAST({width} AS INTERVAL), ts)");
        Assert.Equal(0L, Convert.ToInt64(mismatches));
        // And it is our macro that answered, not the built-in.
        var macro = snapshot.Buffer.QueryScalar("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'time_bucket' AND function_type = 'macro'");
        Assert.True(Convert.ToInt64(macro) >= 1);
    }
}
