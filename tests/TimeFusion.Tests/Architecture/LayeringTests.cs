using System.Xml.Linq;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Architecture;

/// <summary>
/// The layers (Abstractions → Engine → Query → Grains → Silo; the client on Abstractions alone) are enforced by
/// project references: a reference upwards would let a lower layer know a higher one. These tests keep the graph as
/// it is meant to be, so such a reference fails here with the rule it breaks rather than slipping in unnoticed.
/// </summary>
public sealed class LayeringTests
{
    private static readonly Dictionary<string, string> Projects = new()
    {
        ["TimeFusion.Abstractions"] = "src/Grains/Abstractions/TimeFusion.Abstractions.csproj",
        ["TimeFusion.Engine"] = "src/Grains/Engine/TimeFusion.Engine.csproj",
        ["TimeFusion.Query"] = "src/Grains/Query/TimeFusion.Query.csproj",
        ["TimeFusion.Grains"] = "src/Grains/Grains/TimeFusion.Grains.csproj",
        ["TimeFusion.Silo"] = "src/Silo/TimeFusion.Silo.csproj",
        ["TimeFusion.Client"] = "src/Client/TimeFusion.Client.csproj",
    };

    /// <summary>What each project may reference directly (and so, transitively, everything below).</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["TimeFusion.Abstractions"] = [],
        ["TimeFusion.Engine"] = ["TimeFusion.Abstractions"],
        ["TimeFusion.Query"] = ["TimeFusion.Engine"],
        ["TimeFusion.Grains"] = ["TimeFusion.Abstractions", "TimeFusion.Query"],
        ["TimeFusion.Silo"] = ["TimeFusion.Grains"],
        ["TimeFusion.Client"] = ["TimeFusion.Abstractions"],
    };

    private static IReadOnlyList<string> ReferencesOf(string project)
    {
        var path = Path.Combine(RepoPaths.Root, Projects[project]);
        return XDocument.Load(path).Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
            .ToList();
    }

    [Theory]
    [InlineData("TimeFusion.Abstractions")]
    [InlineData("TimeFusion.Engine")]
    [InlineData("TimeFusion.Query")]
    [InlineData("TimeFusion.Grains")]
    [InlineData("TimeFusion.Silo")]
    [InlineData("TimeFusion.Client")]
    public void Each_project_references_only_the_layers_below_it(string project)
    {
        var forbidden = ReferencesOf(project).Where(r => !Allowed[project].Contains(r)).ToList();
        Assert.True(forbidden.Count == 0, $"{project} may reference only [{string.Join(", ", Allowed[project])}] but references [{string.Join(", ", forbidden)}]");
    }

    [Fact]
    public void The_reference_graph_has_no_cycle_and_the_client_never_reaches_the_engine()
    {
        IEnumerable<string> Closure(string p) => ReferencesOf(p).SelectMany(r => Closure(r).Prepend(r)).Distinct();
        foreach (var p in Projects.Keys)
            Assert.DoesNotContain(p, Closure(p));
        Assert.DoesNotContain("TimeFusion.Engine", Closure("TimeFusion.Client"));
        Assert.Equal(["TimeFusion.Abstractions", "TimeFusion.Engine", "TimeFusion.Query"], Closure("TimeFusion.Grains").Order().ToArray());
    }
}
