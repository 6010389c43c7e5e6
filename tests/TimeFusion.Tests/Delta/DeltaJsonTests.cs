using System.Text;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;

namespace TimeFusion.Tests.Delta;

public sealed class DeltaJsonTests
{
    [Fact]
    public void Actions_round_trip_and_unknown_actions_and_fields_are_ignored()
    {
        var add = DeltaTestData.Add(DeltaTestData.Micros(2024, 1, 1), DeltaTestData.Micros(2024, 1, 1, 1), 5) with { Tags = new Dictionary<string, string?> { ["k"] = null } };
        var actions = new DeltaAction[]
        {
            ProtocolAction.Default,
            new MetadataAction { Id = "id", SchemaString = DeltaTestData.Schema.ToDeltaSchemaString(), PartitionColumns = ["date"], CreatedTime = 5 },
            add,
            RemoveFile.For(add, 77),
            new TransactionAction("app", long.MaxValue, 9),
        };
        var bytes = DeltaJson.SerializeCommit(actions);
        var text = Encoding.UTF8.GetString(bytes) + """{"cdc":{"path":"x","partitionValues":{},"size":1,"dataChange":false}}""" + "\n"
                   + """{"add":{"path":"p","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true,"newField":{"x":[1]}}}""";
        var parsed = DeltaJson.ParseCommit(Encoding.UTF8.GetBytes(text), "t");
        Assert.Equal(7, parsed.Count);
        for (var i = 0; i < actions.Length; i++) Assert.Equal(DeltaJson.Serialize(actions[i]), DeltaJson.Serialize(parsed[i]));
        Assert.Equal("cdc", Assert.IsType<UnknownAction>(parsed[5]).Name);
        Assert.Equal("p", Assert.IsType<AddFile>(parsed[6]).Path);
    }

    [Theory]
    [InlineData("{\"add\":{\"path\":\"p\"", "invalid JSON")]
    [InlineData("[1]", "not a JSON object")]
    [InlineData("{\"add\":{\"partitionValues\":{},\"size\":1}}", "'path'")]
    [InlineData("{\"add\":{\"path\":\"p\",\"size\":\"big\"}}", "'size'")]
    [InlineData("{\"add\":{\"path\":\"p\",\"size\":1,\"partitionValues\":{\"a\":1}}}", "partitionValues.a")]
    [InlineData("{\"protocol\":{\"minReaderVersion\":99999999999,\"minWriterVersion\":2}}", "out of range")]
    [InlineData("{\"txn\":{\"appId\":\"a\"}}", "'version'")]
    [InlineData("{\"metaData\":{\"id\":\"x\"}}", "'schemaString'")]
    [InlineData("{\"add\":{\"path\":\"p\",\"size\":1},\"remove\":{\"path\":\"p\"}}", "more than one action")]
    public void Malformed_lines_name_the_file_and_line(string line, string expected)
    {
        var content = Encoding.UTF8.GetBytes("{\"commitInfo\":{}}\n" + line + "\n");
        var e = Assert.Throws<DeltaLogCorruptException>(() => DeltaJson.ParseCommit(content, "log/00000000000000000003.json"));
        Assert.Contains("log/00000000000000000003.json line 2", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Deeply_nested_json_is_rejected_not_a_crash()
    {
        var deep = "{\"commitInfo\":" + string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_001) + "}";
        Assert.Throws<DeltaLogCorruptException>(() => DeltaJson.ParseCommit(Encoding.UTF8.GetBytes(deep), "x"));
    }
}
