using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TimeFusion.Client.Cli.Serve;

/// <summary>
/// <c>timefusion serve [--TimeFusion:Key=value …]</c>: runs the server (<see cref="SiloLocator"/> finds it) in this
/// terminal with the given settings, forwards SIGTERM/SIGQUIT to it (Ctrl+C reaches it directly, as it shares the
/// terminal) and ends with its exit code (2 for invalid settings).
/// </summary>
public static class ServeCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("serve", "Start a TimeFusion server here (settings as --TimeFusion:Key=value, see the README)")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async (parse, ct) =>
        {
            var silo = SiloLocator.Find();
            var info = new ProcessStartInfo(DotnetHost()) { UseShellExecute = false };
            info.ArgumentList.Add(silo);
            foreach (var token in parse.UnmatchedTokens) info.ArgumentList.Add(token);
            using var process = Process.Start(info) ?? throw new CliException("could not start " + silo);
            using var term = Forward(PosixSignal.SIGTERM, process);
            using var quit = Forward(PosixSignal.SIGQUIT, process);
            // Ctrl+C: the server receives it too (same terminal); wait for it to stop rather than dying first.
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
            await process.WaitForExitAsync(CancellationToken.None);
            return process.ExitCode;
        });
        return command;
    }

    // `dotnet timefusion.dll` runs under the dotnet host; the apphost (`timefusion`) does not: then find dotnet on PATH.
    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? self : "dotnet";
    }

    private static PosixSignalRegistration? Forward(PosixSignal signal, Process process)
    {
        if (OperatingSystem.IsWindows()) return null;
        var name = signal == PosixSignal.SIGTERM ? "TERM" : "QUIT";
        return PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true; // keep running until the server has stopped
            if (process.HasExited) return;
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + name, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false });
        });
    }
}
