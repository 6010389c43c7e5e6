using System.Collections.Concurrent;
using System.Globalization;
using TimeFusion.DuckDb;

namespace TimeFusion.Buffer;

/// <summary>
/// Sets the niceness of Arrow's CPU pool workers (native threads in ParquetSharp's library, on which an export encodes its
/// columns), so that exports at <see cref="BufferOptions.ExportNice"/> keep every otherwise idle core while acknowledgements
/// get a contended one first. The workers are created on demand by the thread submitting work — an export thread — and
/// on Linux inherit its name (<see cref="ExportThreadComm"/>, in <c>/proc/self/task/*/comm</c>) and niceness; they live as
/// long as the process. So a thread of that name that is not one of the exports' own threads (registered while they run)
/// is a pool worker, and <c>setpriority</c> works on its thread id.
/// </summary>
internal static class ArrowCpuPool
{
    /// <summary>The export threads' name as the kernel keeps it (15 bytes of <c>"TimeFusion export"</c>).</summary>
    public const string ExportThreadComm = "TimeFusion expo";

    private static readonly ConcurrentDictionary<int, bool> ExportThreads = new();

    /// <summary>Marks the calling thread (an export's own) as not a pool worker until the result is disposed.</summary>
    public static IDisposable RegisterExportThread()
    {
        var tid = LowPriorityThread.CurrentThreadId();
        if (tid is null) return NoRegistration.Instance;
        ExportThreads[tid.Value] = true;
        return new Registration(tid.Value);
    }

    /// <summary>
    /// Sets every pool worker not at niceness <paramref name="nice"/> to it: lowering always works, raising only where the
    /// OS allows this process to (root, <c>CAP_SYS_NICE</c> or <c>RLIMIT_NICE</c>; elsewhere a lowered worker stays lowered).
    /// Returns how many were changed; best effort, 0 off Linux.
    /// </summary>
    public static int SetWorkers(int nice)
    {
        var changed = 0;
        foreach (var (tid, current) in Workers())
            if (current != nice && LowPriorityThread.SetNice(tid, nice))
                changed++;
        return changed;
    }

    /// <summary>The pool's workers (threads named as exports' that are not an export's own) and their niceness; empty off Linux.</summary>
    public static List<(int Tid, int Nice)> Workers()
    {
        var result = new List<(int, int)>();
        if (!OperatingSystem.IsLinux()) return result;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var tid = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
                if (ExportThreads.ContainsKey(tid) || File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') != ExportThreadComm) continue;
                // stat: "tid (comm) state …": the niceness is the 17th field after the closing parenthesis.
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                result.Add((tid, int.Parse(fields[16], CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }
        return result;
    }

    private sealed class Registration(int tid) : IDisposable
    {
        public void Dispose() => ExportThreads.TryRemove(tid, out _);
    }

    private sealed class NoRegistration : IDisposable
    {
        public static readonly NoRegistration Instance = new();

        public void Dispose()
        {
        }
    }
}
