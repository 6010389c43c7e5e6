using TimeFusion.Delta;
using TimeFusion.Delta.Actions;

namespace TimeFusion.Tests.Delta;

public sealed class DeltaProtocolSupportTests
{
    private static MetadataAction Metadata(params (string Key, string Value)[] config) => new()
    {
        Id = "t",
        SchemaString = DeltaTestData.Schema.ToDeltaSchemaString(),
        Configuration = config.ToDictionary(c => c.Key, c => c.Value),
    };

    [Theory]
    [InlineData(1, null, null)]
    [InlineData(2, null, null)]
    [InlineData(3, "", null)]
    [InlineData(3, "vacuumProtocolCheck", null)]
    [InlineData(3, "columnMapping", null)]
    [InlineData(3, "deletionVectors", "deletionVectors")]
    [InlineData(3, "v2Checkpoint", "v2Checkpoint")]
    [InlineData(3, "timestampNtz", "timestampNtz")]
    [InlineData(3, "vacuumProtocolCheck,somethingNew", "somethingNew")]
    [InlineData(4, null, "reader version 4")]
    [InlineData(0, null, "reader version 0")]
    public void Reader_support(int readerVersion, string? readerFeatures, string? refusal)
    {
        var features = readerFeatures?.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var protocol = new ProtocolAction(readerVersion, 7, features, features is null ? null : [.. features]);
        if (refusal is null)
        {
            DeltaProtocolSupport.EnsureReadable(protocol, Metadata(), "t");
            return;
        }
        var e = Assert.Throws<DeltaUnsupportedFeatureException>(() => DeltaProtocolSupport.EnsureReadable(protocol, Metadata(), "t"));
        Assert.Contains(refusal, e.Message);
    }

    [Fact]
    public void Column_mapping_is_refused_only_when_active()
    {
        var v2 = new ProtocolAction(2, 5);
        DeltaProtocolSupport.EnsureReadable(v2, Metadata(("delta.columnMapping.mode", "none")), "t");
        var e = Assert.Throws<DeltaUnsupportedFeatureException>(() =>
            DeltaProtocolSupport.EnsureReadable(v2, Metadata(("delta.columnMapping.mode", "id")), "t"));
        Assert.Equal(["columnMapping"], e.Features);
        Assert.Throws<DeltaUnsupportedFeatureException>(() =>
            DeltaProtocolSupport.EnsureReadable(new ProtocolAction(3, 7, ["columnMapping"], ["columnMapping"]), Metadata(("delta.columnMapping.mode", "name")), "t"));
    }

    [Fact]
    public void Writer_support()
    {
        DeltaProtocolSupport.EnsureWritable(ProtocolAction.Default, Metadata(), "t");
        DeltaProtocolSupport.EnsureWritable(new ProtocolAction(1, 1), Metadata(), "t");
        DeltaProtocolSupport.EnsureWritable(new ProtocolAction(1, 7, null, ["appendOnly", "invariants"]), Metadata(), "t");
        var v7 = Assert.Throws<DeltaUnsupportedFeatureException>(() =>
            DeltaProtocolSupport.EnsureWritable(new ProtocolAction(1, 7, null, ["appendOnly", "identityColumns", "domainMetadata"]), Metadata(), "t"));
        Assert.Equal(["domainMetadata", "identityColumns"], v7.Features);
        Assert.Contains("writer version 3", Assert.Throws<DeltaUnsupportedFeatureException>(() =>
            DeltaProtocolSupport.EnsureWritable(new ProtocolAction(1, 3), Metadata(), "t")).Message);
        var invariants = Metadata() with { SchemaString = """{"type":"struct","fields":[{"name":"x","type":"integer","nullable":true,"metadata":{"delta.invariants":"{}"}}]}""" };
        Assert.Throws<DeltaUnsupportedFeatureException>(() => DeltaProtocolSupport.EnsureWritable(ProtocolAction.Default, invariants, "t"));
        // A table we cannot read we cannot write either.
        Assert.Throws<DeltaUnsupportedFeatureException>(() =>
            DeltaProtocolSupport.EnsureWritable(new ProtocolAction(3, 7, ["deletionVectors"], ["deletionVectors"]), Metadata(), "t"));
    }
}
