using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Npgsql;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Abuse;

/// <summary>
/// The real server (<c>TimeFusion.Silo.dll</c>) as a child process on free loopback ports with three users — the admin
/// <c>timefusion</c>, <c>alice</c> (project <c>pa</c>) and <c>bob</c> (project <c>pb</c>), password <c>pw</c> — and tight
/// limits, for the hostile-tenant tests: its process id, memory (<c>/proc/PID/status</c>) and CPU time are readable.
/// </summary>
public sealed class AbuseSilo : IAsyncDisposable
{
    /// <summary>The process data-segment cap of <see cref="StartAsync"/> with a cap (<c>TimeFusion:Execution:ProcessMemoryLimitBytes</c>).</summary>
    public const long ProcessMemoryLimitBytes = 1536L << 20;

    /// <summary>The largest result a statement may hold (<c>TimeFusion:Execution:MaxResultBytes</c>).</summary>
    public const long MaxResultBytes = 64L << 20;

    /// <summary>Statements one user may run at once (<c>TimeFusion:Execution:MaxConcurrentStatementsPerUser</c>).</summary>
    public const int StatementsPerUser = 2;

    private readonly Process _process;
    private readonly TempDirectory _data;
    private readonly StringBuilder _log = new();

    private AbuseSilo(Process process, TempDirectory data, int postgresPort, int flightPort)
    {
        _process = process;
        _data = data;
        PostgresPort = postgresPort;
        FlightPort = flightPort;
    }

    /// <summary>The PostgreSQL endpoint's port.</summary>
    public int PostgresPort { get; }

    /// <summary>The Arrow Flight endpoint's port (plain HTTP/2).</summary>
    public int FlightPort { get; }

    /// <summary>The server's process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    private static string SiloDll
    {
        get
        {
            var configuration = typeof(AbuseSilo).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
            return Path.Combine(RepoPaths.Root, "src", "Silo", "bin", configuration, framework, "TimeFusion.Silo.dll");
        }
    }

    /// <summary>
    /// Starts the server and waits until its PostgreSQL endpoint accepts connections; <paramref name="capMemory"/> runs it
    /// under <see cref="ProcessMemoryLimitBytes"/>, otherwise it runs under the default cap (derived from the machine's
    /// memory); <paramref name="settings"/> (keys under <c>TimeFusion:</c>) add to or
    /// replace the defaults.
    /// </summary>
    public static async Task<AbuseSilo> StartAsync(bool capMemory = false, IReadOnlyDictionary<string, string>? settings = null)
    {
        var data = new TempDirectory();
        var ports = FreePorts.Take(4);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(SiloDll);
        var all = new Dictionary<string, string>
        {
            ["DataDirectory"] = data.Path,
            ["SiloPort"] = ports[0].ToString(CultureInfo.InvariantCulture),
            ["GatewayPort"] = ports[1].ToString(CultureInfo.InvariantCulture),
            ["Postgres:Port"] = ports[2].ToString(CultureInfo.InvariantCulture),
            ["Flight:Port"] = ports[3].ToString(CultureInfo.InvariantCulture),
            ["Otlp:Enabled"] = "false", // its default ports would clash with other servers on the machine
            ["Buffer:MemoryLimitBytes"] = (512L << 20).ToString(CultureInfo.InvariantCulture),
            ["Buffer:SoftLimitBytes"] = (128L << 20).ToString(CultureInfo.InvariantCulture),
            ["Buffer:HardLimitBytes"] = (256L << 20).ToString(CultureInfo.InvariantCulture),
            ["Execution:MaxResultBytes"] = MaxResultBytes.ToString(CultureInfo.InvariantCulture),
            ["Execution:MaxConcurrentStatementsPerUser"] = StatementsPerUser.ToString(CultureInfo.InvariantCulture),
            ["Users:0:Name"] = "timefusion", ["Users:0:PasswordOrScramSecret"] = "timefusion", ["Users:0:IsAdmin"] = "true", ["Users:0:Projects:0"] = "default",
            ["Users:1:Name"] = "alice", ["Users:1:PasswordOrScramSecret"] = "pw", ["Users:1:Projects:0"] = "pa",
            ["Users:2:Name"] = "bob", ["Users:2:PasswordOrScramSecret"] = "pw", ["Users:2:Projects:0"] = "pb",
        };
        if (capMemory) all["Execution:ProcessMemoryLimitBytes"] = ProcessMemoryLimitBytes.ToString(CultureInfo.InvariantCulture);
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) all[k] = v;
        foreach (var (k, v) in all) info.ArgumentList.Add($"--TimeFusion:{k}={v}");
        info.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var silo = new AbuseSilo(process, data, ports[2], ports[3]);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await FreePorts.WaitUntilListeningAsync(ports[2], TimeSpan.FromSeconds(90), silo.LogTail);
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
        return silo;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            if (Environment.GetEnvironmentVariable("TIMEFUSION_ABUSE_LOG") is { Length: > 0 } file) File.AppendAllText(file, line + "\n");
            if (_log.Length > 64 * 1024) _log.Remove(0, _log.Length - 32 * 1024);
            _log.AppendLine(line);
        }
    }

    /// <summary>The end of the server's output, for failure messages.</summary>
    public string LogTail()
    {
        lock (_log) return (_process.HasExited ? $"exited {_process.ExitCode}\n" : "") + _log.ToString()[Math.Max(0, _log.Length - 3000)..];
    }

    /// <summary>An open connection as <paramref name="user"/>.</summary>
    public async Task<NpgsqlConnection> ConnectAsync(string user)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = PostgresPort, Username = user, Password = user == "timefusion" ? "timefusion" : "pw",
            Database = "timefusion", Pooling = false, CommandTimeout = 120, Timeout = 30,
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>A field of <c>/proc/PID/status</c> in bytes (VmHWM: peak resident set, VmRSS: now).</summary>
    public long StatusBytes(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"no {field} in /proc/{Pid}/status");
    }

    /// <summary>The process's soft data-segment limit in bytes (<c>Max data size</c> of <c>/proc/PID/limits</c>), null when unlimited.</summary>
    public long? DataLimitBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/limits"))
        {
            if (!line.StartsWith("Max data size", StringComparison.Ordinal)) continue;
            var soft = line["Max data size".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return soft == "unlimited" ? null : long.Parse(soft, CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"no data size limit in /proc/{Pid}/limits");
    }

    /// <summary>Resets the peak resident set (<c>VmHWM</c>) to the current one (<c>/proc/PID/clear_refs</c>), so that a test measures its own peak.</summary>
    public void ResetPeak() => File.WriteAllText($"/proc/{Pid}/clear_refs", "5");

    /// <summary>CPU time the server has used (user + system), from <c>/proc/PID/stat</c>.</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After "pid (comm) ": state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>Sends SIGTERM (as a service manager does) and waits up to <paramref name="timeout"/>; true when it exited.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
            await kill.WaitForExitAsync();
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        finally
        {
            _process.Dispose();
            _data.Dispose();
        }
    }
}
