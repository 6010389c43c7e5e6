using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TimeFusion.Bench.Suite;

/// <summary>What the figures were measured on: CPU, memory, OS, runtime, date and commit.</summary>
public sealed record MachineInfo(string Cpu, int Cores, long MemoryBytes, string Os, string Runtime, DateTimeOffset Date, string Commit)
{
    public static MachineInfo Collect(string repoRoot)
    {
        var cpu = "unknown";
        long memory = 0;
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
            var total = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            memory = long.Parse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
            // Not Linux: leave unknown.
        }
        return new MachineInfo(cpu, Environment.ProcessorCount, memory, RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription, DateTimeOffset.UtcNow, GitCommit(repoRoot));
    }

    private static string GitCommit(string repoRoot)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            });
            if (git is null) return "unknown";
            var sha = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && sha.Length > 0 ? sha : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
