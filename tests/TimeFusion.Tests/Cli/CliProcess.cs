using System.Diagnostics;
using System.Reflection;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Cli;

/// <summary>What a finished <c>timefusion</c> run printed.</summary>
public sealed record CliResult(int ExitCode, string StdOut, string StdErr, TimeSpan Elapsed)
{
    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0} s\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
}

/// <summary>Runs the built command line (<c>dotnet src/Client/bin/…/timefusion.dll</c>) as a child process.</summary>
public static class CliProcess
{
    /// <summary>The built command line.</summary>
    public static string Dll
    {
        get
        {
            var configuration = typeof(CliProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
            return Path.Combine(RepoPaths.Root, "src", "Client", "bin", configuration, framework, "timefusion.dll");
        }
    }

    /// <summary>Starts <c>timefusion</c> with <paramref name="args"/>, output redirected (so: no terminal).</summary>
    public static Process Start(string workingDirectory, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("TIMEFUSION_PASSWORD");
        info.Environment.Remove("TIMEFUSION_SILO");
        return Process.Start(info)!;
    }

    /// <summary>Runs <c>timefusion</c> to the end (killing it after <paramref name="timeout"/>, default 2 minutes).</summary>
    public static async Task<CliResult> RunAsync(IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        using var process = Start(workingDirectory ?? Path.GetTempPath(), args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"timefusion {string.Join(' ', args)} did not finish in time; stdout: {await stdout}; stderr: {await stderr}");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr, clock.Elapsed);
    }
}
