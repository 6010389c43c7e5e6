namespace TimeFusion.Bench.Peers;

/// <summary>A process's resident memory from /proc: current (VmRSS) and peak (VmHWM).</summary>
public static class ProcessMemory
{
    public static long PeakBytes(int pid) => Read(pid, "VmHWM:");

    public static long CurrentBytes(int pid) => Read(pid, "VmRSS:");

    private static long Read(int pid, string key)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
        }
        catch (IOException)
        {
            return 0; // gone
        }
    }
}
