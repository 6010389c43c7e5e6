using System.Diagnostics;
using TimeFusion.Bench.Peers;

namespace TimeFusion.Bench.Ingest;

/// <summary>CPU time (user + system) of the silo and of this process (the bench's clients), or the difference of two readings.</summary>
public readonly record struct BurstCpu(TimeSpan Silo, TimeSpan Client)
{
    /// <summary>Both processes' CPU time so far.</summary>
    public static BurstCpu Now(SiloProcess silo)
    {
        using var self = Process.GetCurrentProcess();
        return new BurstCpu(silo.CpuTime, self.TotalProcessorTime);
    }

    public static BurstCpu operator -(BurstCpu a, BurstCpu b) => new(a.Silo - b.Silo, a.Client - b.Client);
}
