namespace TimeFusion.Tests.Infrastructure;

/// <summary>Locations in the repository and beside it, found from the test assembly's folder.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TimeFusion.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("TimeFusion.sln not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository root (the folder holding TimeFusion.sln).</summary>
    public static string Root => RootLazy.Value;

    /// <summary>The tests' own data (e.g. <c>delta-golden</c>, real Delta tables written by Spark and delta-rs).</summary>
    public static string TestData => Path.Combine(Root, "tests", "TimeFusion.Tests", "TestData");
}
