using System.Diagnostics;
using System.Reflection;
using System.Text;
using Npgsql;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.ClusterMode;

/// <summary>
/// One real TimeFusion server (the built <c>src/Silo</c> dll) as a child process in cluster mode on its own loopback
/// ports, with membership timeouts tuned so a dead silo is declared dead within seconds. It keeps its ports and
/// data directory across <see cref="RestartAsync"/>, and can be killed (SIGKILL), stopped gracefully (SIGTERM),
/// frozen (SIGSTOP) and thawed (SIGCONT).
/// </summary>
public sealed class ClusterSiloProcess : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly string _clusterId;
    private readonly IReadOnlyDictionary<string, string> _extra;
    private readonly int[] _ports;
    private readonly StringBuilder _log = new();
    private Process? _process;

    private ClusterSiloProcess(string name, string connectionString, string clusterId, string dataDirectory, IReadOnlyDictionary<string, string> extra)
    {
        Name = name;
        _connectionString = connectionString;
        _clusterId = clusterId;
        DataDirectory = dataDirectory;
        _extra = extra;
        _ports = FreePorts.Take(4);
    }

    public string Name { get; }

    public string DataDirectory { get; set; }

    public int PostgresPort => _ports[2];

    /// <summary>The silo-to-silo port (its membership address is 127.0.0.1:this).</summary>
    public int SiloPort => _ports[0];

    public bool IsRunning => _process is { HasExited: false };

    private static string SiloDll
    {
        get
        {
            var configuration = typeof(ClusterSiloProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
            return Path.Combine(RepoPaths.Root, "src", "Silo", "bin", configuration, framework, "TimeFusion.Silo.dll");
        }
    }

    /// <summary>Starts a silo of cluster <paramref name="clusterId"/> and waits until it answers SQL.</summary>
    public static async Task<ClusterSiloProcess> StartAsync(string name, string connectionString, string clusterId, string dataDirectory,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        var silo = new ClusterSiloProcess(name, connectionString, clusterId, dataDirectory, extra ?? new Dictionary<string, string>());
        await silo.RestartAsync();
        return silo;
    }

    /// <summary>Starts the process again (same ports, same data directory unless changed) and waits until it answers SQL.</summary>
    public async Task RestartAsync()
    {
        if (IsRunning) throw new InvalidOperationException($"{Name} is still running");
        _process?.Dispose();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(SiloDll);
        var settings = new Dictionary<string, string>
        {
            ["DataDirectory"] = DataDirectory,
            ["SiloPort"] = _ports[0].ToString(),
            ["GatewayPort"] = _ports[1].ToString(),
            ["Postgres:Port"] = _ports[2].ToString(),
            ["Flight:Port"] = _ports[3].ToString(),
            ["Otlp:Enabled"] = "false", // its default ports would clash between the silos
            ["Cluster:ConnectionString"] = _connectionString,
            ["Cluster:ClusterId"] = _clusterId,
            // SDK session tokens must verify on every silo: one signing key for the cluster (a test key).
            ["Sdk:SessionSecret"] = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData("timefusion-test-cluster"u8)),
            // Death detection in seconds (Orleans' defaults take ~15 s).
            ["Cluster:ProbeTimeout"] = "00:00:01",
            ["Cluster:MissedProbesLimit"] = "2",
            ["Flush:MaxBufferAge"] = "00:00:02",
            ["Buffer:MemoryLimitBytes"] = (512L << 20).ToString(),
            ["Buffer:SoftLimitBytes"] = (128L << 20).ToString(),
            ["Buffer:HardLimitBytes"] = (256L << 20).ToString(),
            ["Buffer:Threads"] = "1",
            // Every writer and reader is one user: the per-user limit (2 on two cores) would queue them behind each
            // other while a silo is down and a loaded machine slows every statement, failing them with 53400.
            ["Execution:MaxConcurrentStatementsPerUser"] = "16",
        };
        foreach (var (k, v) in _extra) settings[k] = v;
        foreach (var (k, v) in settings) info.ArgumentList.Add($"--TimeFusion:{k}={v}");
        info.ArgumentList.Add("--Logging:LogLevel:TimeFusion.Grains=Information");
        info.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        // A silo starting while two others replay and the machine is shared can take most of a minute (40-60 s seen at
        // load average 60 on two cores): the deadline leaves room for that.
        await WaitUntilAnsweringAsync(TimeSpan.FromSeconds(150));
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            if (_log.Length > 256 * 1024) _log.Remove(0, 128 * 1024);
            _log.AppendLine(line);
            // Warnings and errors (with their exception lines) are kept apart: the rolling log may have lost them by the
            // time a test wants to show what a client's error was.
            if (line.StartsWith("warn:", StringComparison.Ordinal) || line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal))
                _inProblem = true;
            else if (line.Length > 0 && !char.IsWhiteSpace(line[0]))
                _inProblem = false;
            if (_inProblem && _problems.Length < 1024 * 1024) _problems.AppendLine(line);
        }
    }

    private readonly StringBuilder _problems = new();
    private bool _inProblem;

    /// <summary>Every warning and error the silo logged (up to 1 MiB), each with its exception lines.</summary>
    public string Problems()
    {
        lock (_log) return _problems.ToString();
    }

    /// <summary>What the silo printed (the recent part).</summary>
    public string Log()
    {
        lock (_log) return _log.ToString();
    }

    /// <summary>The number of table grains this process has activated so far (its own log says so).</summary>
    public int TableActivations()
    {
        lock (_log) return CountOf(_log.ToString(), "activated on this silo");
    }

    private static int CountOf(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    public string ConnectionString(int timeoutSeconds = 15) =>
        $"Host=127.0.0.1;Port={PostgresPort};Username=timefusion;Password=timefusion;Database=timefusion;Pooling=false;Timeout={timeoutSeconds};Command Timeout=60";

    private async Task WaitUntilAnsweringAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited) throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}: {Tail()}");
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString(5));
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException)
            {
                last = e;
                await Task.Delay(200);
            }
        }
        throw new TimeoutException($"{Name} did not answer SQL within {timeout}: {last?.Message}; {Tail()}");
    }

    public string Tail()
    {
        var log = Log();
        return log[Math.Max(0, log.Length - 4000)..];
    }

    /// <summary>SIGKILL: the process dies at once, nothing flushed or handed over.</summary>
    public async Task KillAsync()
    {
        _process!.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, then waits for the graceful stop (failing if it takes longer than <paramref name="timeout"/>).</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        await SignalAsync("TERM");
        using var cts = new CancellationTokenSource(timeout);
        await _process!.WaitForExitAsync(cts.Token);
    }

    /// <summary>SIGSTOP: the process is frozen (as in a long GC pause or a network partition).</summary>
    public Task FreezeAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT: the frozen process resumes where it was.</summary>
    public Task ThawAsync() => SignalAsync("CONT");

    public bool HasExited => _process!.HasExited;

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process!.WaitForExitAsync(cancellationToken);

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, _process!.Id.ToString() }, UseShellExecute = false })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {_process.Id} failed with {kill.ExitCode}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            try
            {
                await SignalAsync("CONT"); // a frozen process cannot die of SIGKILL until it runs again on some kernels' accounting
            }
            catch (InvalidOperationException)
            {
                // It exited meanwhile.
            }
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
    }
}
