namespace TimeFusion.Client.Cli;

/// <summary>A failure reported to the user as one line (no stack trace), with the exit code to end with.</summary>
/// <param name="message">What went wrong, for people: names the address, file, row or column involved.</param>
/// <param name="exitCode">The process exit code (<see cref="ExitCodes"/>).</param>
public sealed class CliException(string message, int exitCode = ExitCodes.Error) : Exception(message)
{
    /// <summary>The process exit code.</summary>
    public int ExitCode { get; } = exitCode;
}
