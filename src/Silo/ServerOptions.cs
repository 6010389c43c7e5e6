namespace TimeFusion.Silo;

/// <summary>Server settings, bound from the <c>TimeFusion</c> configuration section (appsettings, env, command line).</summary>
public sealed class ServerOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "TimeFusion";

    /// <summary>Where WAL segments, Delta tables and caches live. Default <c>./data</c>.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Orleans silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Orleans client gateway port.</summary>
    public int GatewayPort { get; set; } = 30000;
}
