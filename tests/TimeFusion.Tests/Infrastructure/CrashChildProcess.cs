using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace TimeFusion.Tests.Infrastructure;

/// <summary>
/// Runs tests/TimeFusion.CrashChild as a real child process (<c>dotnet TimeFusion.CrashChild.dll mode args…</c>),
/// collects its complete stdout lines (those ending with " END", the marker stripped) and kills it.
/// </summary>
public sealed class CrashChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private (Func<string, bool> Match, int Count, TaskCompletionSource Done)? _waiter;

    private CrashChildProcess(Process process) => _process = process;

    /// <summary>The child's entry assembly (built with the tests: the test project references it).</summary>
    public static string DllPath
    {
        get
        {
            var baked = typeof(CrashChildProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "CrashChildDll")?.Value;
            if (baked is not null && File.Exists(baked)) return baked;
            var found = Directory.GetFiles(Path.Combine(RepoPaths.Root, "tests", "TimeFusion.CrashChild", "bin"), "TimeFusion.CrashChild.dll", SearchOption.AllDirectories)
                .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
            return found ?? throw new FileNotFoundException($"TimeFusion.CrashChild.dll not found (expected {baked}); build the solution");
        }
    }

    public static CrashChildProcess Start(string mode, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add(DllPath);
        psi.ArgumentList.Add(mode);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi };
        var child = new CrashChildProcess(process);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (child._stderr) child._stderr.AppendLine(e.Data);
        };
        if (!process.Start()) throw new InvalidOperationException("could not start dotnet");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _stdoutClosed.TrySetResult();
            lock (_lines) _waiter?.Done.TrySetException(new InvalidOperationException("child output ended: " + Describe()));
            return;
        }
        if (!line.EndsWith(" END", StringComparison.Ordinal)) return; // cut short by the kill
        lock (_lines)
        {
            _lines.Add(line[..^4]);
            if (_waiter is { } w && _lines.Count(w.Match) >= w.Count) w.Done.TrySetResult();
        }
    }

    /// <summary>Waits until <paramref name="count"/> lines match, failing after <paramref name="timeout"/> or if the child dies.</summary>
    public async Task WaitForLinesAsync(Func<string, bool> match, int count, TimeSpan timeout)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            if (_lines.Count(match) >= count) return;
            if (_stdoutClosed.Task.IsCompleted) throw new InvalidOperationException("child output ended: " + Describe());
            _waiter = (match, count, done);
        }
        if (await Task.WhenAny(done.Task, Task.Delay(timeout)) != done.Task)
            throw new TimeoutException($"child did not print {count} matching lines within {timeout}: {Describe()}");
        await done.Task;
    }

    /// <summary>Kills the child (SIGKILL) and returns every complete line it printed.</summary>
    public async Task<IReadOnlyList<string>> KillAsync()
    {
        if (_process.HasExited) throw new InvalidOperationException("the child exited before it was killed: " + Describe());
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        await _stdoutClosed.Task;
        lock (_lines) return _lines.ToList();
    }

    private string Describe()
    {
        string err;
        lock (_stderr) err = _stderr.ToString();
        return $"exited={_process.HasExited}{(_process.HasExited ? " code=" + _process.ExitCode : "")}; stderr: {err}";
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
