namespace TimeFusion.Client.Cli.Serve;

/// <summary>
/// Finds the server program (<c>TimeFusion.Silo.dll</c>) that <c>timefusion serve</c> runs. The command line does not
/// reference the server's assemblies (the client layer stays on Abstractions), so it looks, in order:
/// <list type="number">
/// <item>at <c>$TIMEFUSION_SILO</c> (a path to <c>TimeFusion.Silo.dll</c>);</item>
/// <item>beside <c>timefusion.dll</c> (both published into one folder);</item>
/// <item>in the repository the command line was built in: <c>src/Silo/bin/&lt;configuration&gt;/&lt;framework&gt;/</c>,
/// the command line's own configuration first.</item>
/// </list>
/// </summary>
public static class SiloLocator
{
    /// <summary>The environment variable naming the server program.</summary>
    public const string Variable = "TIMEFUSION_SILO";

    /// <summary>The server program's file name.</summary>
    public const string SiloDll = "TimeFusion.Silo.dll";

    /// <summary>The places looked at, in order (existing or not).</summary>
    public static IEnumerable<string> Candidates(string baseDirectory, string? variable)
    {
        if (!string.IsNullOrEmpty(variable)) yield return Path.GetFullPath(variable);
        yield return Path.Combine(baseDirectory, SiloDll);
        var dir = new DirectoryInfo(baseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        // …/src/Client/bin/<configuration>/<framework>
        var framework = dir.Name;
        var configuration = dir.Parent?.Name;
        for (var d = dir; d is not null; d = d.Parent)
        {
            if (!File.Exists(Path.Combine(d.FullName, "TimeFusion.sln"))) continue;
            var bin = Path.Combine(d.FullName, "src", "Silo", "bin");
            foreach (var c in new[] { configuration, "Release", "Debug" }.Where(c => c is not null).Distinct())
                yield return Path.Combine(bin, c!, framework, SiloDll);
            yield break;
        }
    }

    /// <summary>The server program to run; a <see cref="CliException"/> listing where it looked when there is none.</summary>
    public static string Find()
    {
        var variable = Environment.GetEnvironmentVariable(Variable);
        var candidates = Candidates(AppContext.BaseDirectory, variable).ToList();
        if (!string.IsNullOrEmpty(variable) && !File.Exists(candidates[0]))
            throw new CliException($"{Variable}={variable}: no such file");
        return candidates.FirstOrDefault(File.Exists) ?? throw new CliException(
            $"cannot find the server ({SiloDll}); looked at: {string.Join(", ", candidates)}. " +
            $"Build it (dotnet build -c Release src/Silo) or set {Variable} to its path");
    }
}
