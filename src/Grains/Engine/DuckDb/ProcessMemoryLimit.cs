using System.Runtime.InteropServices;

namespace TimeFusion.DuckDb;

/// <summary>
/// Caps the private memory of the whole process (Linux <c>RLIMIT_DATA</c>: heap, anonymous private writable mappings).
/// DuckDB's <c>memory_limit</c> counts only its buffer manager: string vectors (one 2,048-row vector of 3 MB strings
/// is 6 GB) are plain <c>malloc</c>s it never sees, and a statement cannot be interrupted inside one vector. With this
/// cap the allocation itself fails, DuckDB turns the failed <c>malloc</c> into an out-of-memory error for that statement
/// only (53200), frees what it held, and the server keeps running instead of being killed by the kernel.
/// The managed heap counts too: leave room for it above DuckDB's limit.
/// </summary>
public static partial class ProcessMemoryLimit
{
    private const int RlimitData = 2; // RLIMIT_DATA on Linux (x64 and arm64)

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    /// <summary>
    /// Sets the process's soft data limit to <paramref name="bytes"/> (never above the hard limit). Returns false where
    /// the platform has no such limit (not Linux) or the kernel refused it.
    /// </summary>
    public static bool TryApply(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        if (!OperatingSystem.IsLinux()) return false;
        if (GetRLimit(RlimitData, out var current) != 0) return false;
        var wanted = Math.Min((ulong)bytes, current.Maximum);
        return SetRLimit(RlimitData, new RLimit { Current = wanted, Maximum = current.Maximum }) == 0;
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    /// <summary>
    /// Returns freed memory to the system — DuckDB's allocator's unused pages (<see cref="DuckDbAllocator.Purge"/>) and
    /// glibc's freed heap blocks (it keeps large ones once its mmap threshold has grown) — so that a statement that
    /// failed for memory leaves neither the resident set nor the address space at its peak.
    /// </summary>
    public static void ReleaseFreeMemory()
    {
        if (!OperatingSystem.IsLinux()) return;
        DuckDbAllocator.Purge();
        try
        {
            MallocTrim(0);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl): nothing to trim.
        }
    }

    /// <summary>The process's soft data limit in bytes, or null when unlimited or unknown.</summary>
    public static long? Current()
    {
        if (!OperatingSystem.IsLinux() || GetRLimit(RlimitData, out var limit) != 0 || limit.Current == ulong.MaxValue) return null;
        return (long)Math.Min(limit.Current, long.MaxValue);
    }
}
