using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Delta;

/// <summary>
/// <see cref="DataFileColumns"/>: which columns a group of files is read with as typed NULLs, which by name, from the
/// files' statistics (a null count equal to the row count: the file may lack the column) and the columns added by ALTER.
/// </summary>
public sealed class DataFileColumnsTests
{
    private static readonly TableSchema Schema = TableSchema.Create("t",
    [
        new ColumnDefinition("a", ColumnType.Utf8),
        new ColumnDefinition("b", ColumnType.Int64),
        new ColumnDefinition("c", ColumnType.Utf8List),
        new ColumnDefinition("added", ColumnType.Float64),
    ]);

    private static AddFile File(string? stats) => new() { Path = $"date=2024-01-01/{Guid.NewGuid():N}.parquet", Stats = stats };

    private static readonly IReadOnlySet<string> None = new HashSet<string>();

    [Fact]
    public void A_column_null_in_every_file_is_a_typed_null_and_one_null_in_some_files_is_read_by_name()
    {
        var files = new[]
        {
            File("""{"numRecords":3,"nullCount":{"a":3,"b":3,"c":3,"timestamp":0}}"""),
            File("""{"numRecords":2,"nullCount":{"a":2,"b":1,"timestamp":0}}"""),
        };
        var columns = DataFileColumns.Of(Schema, files, None);
        Assert.Equal(["a"], columns.Null.Order());
        Assert.Equal(["b", "c"], columns.MaybeMissing.Order());
        Assert.True(columns.UnionByName);
        Assert.Empty(columns.Added);
        Assert.Equal("CAST(NULL AS VARCHAR) AS \"a\"", columns.Select(Schema.Find("a")!));
        Assert.Equal("\"b\"", columns.Select(Schema.Find("b")!));
        Assert.Contains("union_by_name = true", columns.Read(Schema, ["/x/1.parquet", "/x/2.parquet"]));
    }

    [Fact]
    public void Files_lacking_different_columns_are_read_in_a_few_groups_without_union_by_name_and_past_that_together_by_name()
    {
        var lacksA = """{"numRecords":3,"nullCount":{"a":3,"b":0}}""";
        var lacksB = """{"numRecords":3,"nullCount":{"a":0,"b":3}}""";
        var files = new[] { File(lacksA), File(lacksB), File(lacksA), File(null) };
        var split = DataFileColumns.Split(Schema, files, None);
        Assert.Equal([[0, 2], [1], [3]], split.Select(g => g.Files));
        Assert.All(split, g => Assert.False(g.Columns.UnionByName));
        Assert.Equal(["a"], split[0].Columns.Null);
        Assert.Equal(["b"], split[1].Columns.Null);
        Assert.Empty(split[2].Columns.Null);

        // More ways to differ than reads allowed: one read of all, by name.
        // File n lacks the columns of the bits of n + 1 (a, b, c, added): nine ways to differ, none shared by all.
        string[] names = ["a", "b", "c", "added"];
        var many = Enumerable.Range(0, DataFileColumns.MaxSplitReads + 1)
            .Select(n => File("{\"numRecords\":5,\"nullCount\":{" + string.Join(",", names.Select((c, bit) => $"\"{c}\":{(((n + 1) >> bit & 1) == 1 ? 5 : 0)}")) + "}}"))
            .ToList();
        var together = Assert.Single(DataFileColumns.Split(Schema, many, None));
        Assert.Equal(Enumerable.Range(0, many.Count), together.Files);
        Assert.Empty(together.Columns.Null);
        Assert.Equal(names.Order(), together.Columns.MaybeMissing.Order());
        Assert.True(together.Columns.UnionByName);
    }

    [Fact]
    public void Files_holding_every_column_are_read_as_before()
    {
        // A null count below the row count, or none (a list column, or no statistics at all): the file holds the column.
        var files = new[] { File("""{"numRecords":3,"nullCount":{"a":1,"b":0}}"""), File(null), File("""{"nullCount":{"a":0}}""") };
        var columns = DataFileColumns.Of(Schema, files, None);
        Assert.Empty(columns.Null);
        Assert.Empty(columns.MaybeMissing);
        Assert.Equal("read_parquet(['/x/1.parquet'], hive_partitioning = false)", columns.Read(Schema, ["/x/1.parquet"]));
    }

    [Fact]
    public void A_column_added_by_alter_is_read_by_name_from_files_that_know_nothing_of_it_and_is_a_typed_null_when_all_say_null()
    {
        IReadOnlySet<string> added = new HashSet<string> { "added" };
        var old = File("""{"numRecords":3,"nullCount":{"a":0,"b":0}}""");
        var columns = DataFileColumns.Of(Schema, [old, File("""{"numRecords":1,"nullCount":{"a":0,"b":0,"added":0}}""")], added);
        Assert.Equal(["added"], columns.MaybeMissing);
        Assert.Equal(["added"], columns.Added);
        // The empty relation of the added column unions with the files by name: a file without it reads NULL.
        Assert.Contains("CAST(NULL AS DOUBLE) AS \"added\" WHERE false UNION ALL BY NAME", columns.Read(Schema, ["/x/1.parquet"]));

        var allNull = DataFileColumns.Of(Schema, [File("""{"numRecords":3,"nullCount":{"a":0,"b":0,"added":3}}""")], added);
        Assert.Equal(["added"], allNull.Null);
        Assert.Empty(allNull.MaybeMissing);
    }
}
