namespace TimeFusion.Client.Cli;

/// <summary>The command line's exit codes.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The command failed (server unreachable, SQL error, bad input file, …).</summary>
    public const int Error = 1;

    /// <summary>The command line itself was wrong (unknown option, missing argument).</summary>
    public const int Usage = 2;
}
