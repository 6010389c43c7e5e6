using System.Text.RegularExpressions;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Architecture;

/// <summary>
/// DuckDB's C API has one home, <c>src/Grains/Engine/DuckDb</c>: every <c>unsafe</c> block, every import of the
/// <c>duckdb</c> library and every raw use of a connection handle lives there, behind checked entry points. These
/// tests fail when native code leaks into another folder.
/// </summary>
public sealed partial class NativeBoundaryTests
{
    private static readonly string NativeHome = Path.Combine("src", "Grains", "Engine", "DuckDb") + Path.DirectorySeparatorChar;

    private static IEnumerable<(string Relative, string Code)> SourceFiles() =>
        Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f => (Path.GetRelativePath(RepoPaths.Root, f), CodeOnly(File.ReadAllText(f))));

    /// <summary>The text without comments and string literals (an error message may say "unsafe").</summary>
    private static string CodeOnly(string text) => Literals().Replace(Comments().Replace(text, ""), "\"\"");

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex("\"(?:[^\"\\\\\\n]|\\\\.)*\"")]
    private static partial Regex Literals();

    [GeneratedRegex(@"\bunsafe\b|\bfixed\s*\(|\bDangerousGetHandle\b|\bDangerousAddRef\b")]
    private static partial Regex NativeCode();

    [Fact]
    public void Unsafe_code_and_raw_handles_live_only_in_the_DuckDB_layer()
    {
        var outside = SourceFiles().Where(f => !f.Relative.StartsWith(NativeHome, StringComparison.Ordinal) && NativeCode().IsMatch(f.Code))
            .Select(f => f.Relative).ToList();
        Assert.True(outside.Count == 0, "native code outside " + NativeHome + ": " + string.Join(", ", outside));
    }

    [Fact]
    public void Only_the_DuckDB_layer_imports_the_duckdb_library_and_it_does()
    {
        var importers = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => Regex.IsMatch(File.ReadAllText(f), @"(DllImport|LibraryImport)\(\s*(""duckdb""|\w+\.Library|Library)"))
            .Select(f => Path.GetRelativePath(RepoPaths.Root, f)).ToList();
        Assert.NotEmpty(importers);
        Assert.All(importers, f => Assert.StartsWith(NativeHome, f));
    }

    [Fact]
    public void Only_the_engine_project_allows_unsafe_blocks()
    {
        var allowing = Directory.EnumerateFiles(RepoPaths.Root, "*.csproj", SearchOption.AllDirectories)
            .Where(f => !f.Contains("node_modules") && File.ReadAllText(f).Contains("<AllowUnsafeBlocks>true", StringComparison.Ordinal))
            .Select(Path.GetFileName).ToList();
        Assert.Equal(["TimeFusion.Engine.csproj"], allowing);
    }
}
