using System.Globalization;

namespace TimeFusion.Bench.Peers;

/// <summary>
/// A process's CPU time (user + system) from /proc (Linux): on a machine shared with other work, CPU seconds spent by
/// the processes under test say more than wall time, which includes waiting for cores others hold.
/// </summary>
public static class ProcessCpu
{
    /// <summary>utime + stime of <paramref name="pid"/> in seconds (clock ticks of 1/100 s); 0 when it is gone.</summary>
    public static double Seconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After the command: state is field 3; utime and stime are fields 14 and 15 (1-based over the whole line).
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The summed CPU seconds of <paramref name="pids"/>.</summary>
    public static double Seconds(IEnumerable<int> pids) => pids.Sum(Seconds);
}
