namespace TimeFusion.Silo;

/// <summary>
/// The silo's Orleans ports, bound from the <c>TimeFusion</c> section (<c>TimeFusion:SiloPort</c>,
/// <c>TimeFusion:GatewayPort</c>). The data directory is <see cref="TimeFusion.Hosting.TimeFusionOptions"/>.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "TimeFusion";

    /// <summary>Orleans silo-to-silo port. Default 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Orleans client gateway port. Default 30000.</summary>
    public int GatewayPort { get; set; } = 30000;
}
