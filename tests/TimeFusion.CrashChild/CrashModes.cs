namespace TimeFusion.CrashChild;

/// <summary>One thing the child can do until it is killed.</summary>
public interface ICrashMode
{
    /// <summary>The first command-line argument that selects this mode.</summary>
    string Name { get; }

    /// <summary>Runs (normally until killed); returns the exit code if it ever finishes.</summary>
    Task<int> RunAsync(CrashArgs args, CrashOutput output);
}

/// <summary>Every mode. Add new ones here.</summary>
public static class CrashModes
{
    public static IReadOnlyDictionary<string, ICrashMode> All { get; } =
        new ICrashMode[] { new WalAppendMode(), new EngineIngestMode(), new EngineOptimizeMode() }.ToDictionary(m => m.Name, StringComparer.Ordinal);
}
