using System.Diagnostics;
using TimeFusion.Bench.Peers;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// CPU time (user + system) of the silo and of this process (the bench's clients), and the bytes under the silo's WAL
/// folder; or the difference of two readings.
/// </summary>
public readonly record struct BurstCpu(TimeSpan Silo, TimeSpan Client, long WalBytes)
{
    /// <summary>Both processes' CPU time so far.</summary>
    public static BurstCpu Now(SiloProcess silo)
    {
        using var self = Process.GetCurrentProcess();
        return new BurstCpu(silo.CpuTime, self.TotalProcessorTime, silo.WalBytes);
    }

    public static BurstCpu operator -(BurstCpu a, BurstCpu b) => new(a.Silo - b.Silo, a.Client - b.Client, a.WalBytes - b.WalBytes);
}
