using TimeFusion.Delta;

namespace TimeFusion.Tests.Delta;

public sealed class DeltaLogPathsTests
{
    [Theory]
    [InlineData("00000000000000000012.json", DeltaLogFileKind.Commit, 12, 1, 1)]
    [InlineData("00000000000000000010.checkpoint.parquet", DeltaLogFileKind.Checkpoint, 10, 1, 1)]
    [InlineData("00000000000000000010.checkpoint.0000000002.0000000003.parquet", DeltaLogFileKind.MultiPartCheckpoint, 10, 2, 3)]
    [InlineData("00000000000000000008.checkpoint.e5ac4dc4-be27-4106-8a55-609707487f83.json", DeltaLogFileKind.UuidCheckpoint, 8, 1, 1)]
    public void Log_file_names_are_recognised(string name, DeltaLogFileKind kind, long version, int part, int parts)
    {
        Assert.True(DeltaLogPaths.TryParseLogFileName(name, out var k, out var v, out var p, out var ps));
        Assert.Equal((kind, version, part, parts), (k, v, p, ps));
    }

    [Theory]
    [InlineData("00000000000000000000.crc")]
    [InlineData(".00000000000000000000.json.crc")]
    [InlineData("00000000000000000000.json.tmp-abc")]
    [InlineData("0000000000000000000.json")]
    [InlineData("00000000000000000004.00000000000000000006.compacted.json")]
    [InlineData("00000000000000000010.checkpoint.0000000004.0000000003.parquet")]
    [InlineData("_last_checkpoint")]
    [InlineData("x0000000000000000000.json")]
    public void Other_files_are_not_part_of_the_log(string name)
    {
        Assert.False(DeltaLogPaths.TryParseLogFileName(name, out _, out _, out _, out _));
    }

    [Fact]
    public void Paths_encode_for_the_log_and_decode_exactly_once()
    {
        Assert.Equal("date=2024-01-01/part-1.zstd.parquet", DeltaLogPaths.EncodePath("date=2024-01-01/part-1.zstd.parquet"));
        var hiveFolder = "x=A%2FA/part 1:ü.parquet";
        var encoded = DeltaLogPaths.EncodePath(hiveFolder);
        Assert.Equal("x=A%252FA/part%201%3A%C3%BC.parquet", encoded);
        Assert.Equal(hiveFolder, DeltaLogPaths.DecodePath(encoded));
        Assert.False(DeltaLogPaths.IsAbsolute(encoded));
        Assert.True(DeltaLogPaths.IsAbsolute("s3://bucket/a.parquet"));
        Assert.True(DeltaLogPaths.IsAbsolute("file:/tmp/a.parquet"));
        Assert.False(DeltaLogPaths.IsAbsolute("a=b:c/part.parquet"));
    }

    [Fact]
    public void New_data_file_paths_are_unique_and_in_the_date_partition()
    {
        var a = DeltaLogPaths.NewDataFilePath(new DateOnly(2024, 2, 29));
        var b = DeltaLogPaths.NewDataFilePath(new DateOnly(2024, 2, 29));
        Assert.Matches(@"^date=2024-02-29/part-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.zstd\.parquet$", a);
        Assert.NotEqual(a, b);
        Assert.Equal("projects/p/t/_delta_log/00000000000000000007.json", DeltaLogPaths.CommitPath("projects/p/t", 7));
        Assert.Equal("_delta_log/00000000000000000007.checkpoint.parquet", DeltaLogPaths.CheckpointPath("", 7));
    }
}
