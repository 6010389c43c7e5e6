using System.Diagnostics;
using Npgsql;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Peers;

/// <summary>
/// A throwaway PostgreSQL server (initdb + pg_ctl from PATH) as the current user in a temp folder, on a free loopback
/// port, <c>fsync=on</c>; stopped and deleted on dispose, and on Ctrl-C or process exit.
/// </summary>
public sealed class PostgresPeer : IAsyncDisposable
{
    private readonly string _root;
    private int _stopped;

    public int Port { get; }
    public string ConnectionString { get; }
    public string Version { get; private set; } = "";

    private PostgresPeer(string root, int port)
    {
        _root = root;
        Port = port;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=bench;Database=postgres;Pooling=true;Maximum Pool Size=64;Command Timeout=0;Timeout=30";
    }

    public static bool Available => FindOnPath("initdb") is not null && FindOnPath("pg_ctl") is not null;

    public static async Task<PostgresPeer> StartAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var peer = new PostgresPeer(root, FreePorts.Take(1)[0]);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => peer.StopNow();
        Console.CancelKeyPress += (_, _) => peer.StopNow();
        var data = Path.Combine(root, "data");
        if (RunAsUser is { } user) await RunAsync("chown", ["-R", $"{user}:", root]);
        await RunAsync(FindOnPath("initdb")!, ["-D", data, "-U", "bench", "--auth=trust", "--encoding=UTF8", "--no-locale"]);
        var options = string.Join(' ',
            $"-p {peer.Port}", "-c listen_addresses=127.0.0.1", $"-k {root}", "-c fsync=on", "-c synchronous_commit=on",
            "-c shared_buffers=2GB", "-c max_wal_size=8GB", "-c work_mem=256MB", "-c maintenance_work_mem=1GB",
            "-c max_parallel_workers_per_gather=2", "-c jit=off");
        await RunAsync(FindOnPath("pg_ctl")!, ["-D", data, "-l", Path.Combine(root, "log"), "-o", options, "-w", "-t", "60", "start"]);
        await using var conn = new NpgsqlConnection(peer.ConnectionString);
        await conn.OpenAsync();
        peer.Version = conn.PostgreSqlVersion.ToString();
        return peer;
    }

    public NpgsqlConnection Connect() => new(ConnectionString);

    public async Task ExecuteAsync(string sql)
    {
        await using var conn = Connect();
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private void StopNow()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        try
        {
            using var stop = Process.Start(Command(FindOnPath("pg_ctl")!, ["-D", Path.Combine(_root, "data"), "-m", "immediate", "-w", "stop"]));
            stop?.WaitForExit(30_000);
        }
        catch (Exception)
        {
            // Best effort on the way out.
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        StopNow();
        return ValueTask.CompletedTask;
    }

    // PostgreSQL refuses to run as root: then its commands run as the "postgres" user (runuser), who owns the folder.
    private static readonly string? RunAsUser = Environment.UserName == "root" && File.Exists("/usr/sbin/runuser")
        && File.ReadLines("/etc/passwd").Any(l => l.StartsWith("postgres:", StringComparison.Ordinal)) ? "postgres" : null;

    private static ProcessStartInfo Command(string file, string[] args)
    {
        var wrap = RunAsUser is not null && file != "chown";
        var info = new ProcessStartInfo(wrap ? "/usr/sbin/runuser" : file) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (wrap)
        {
            foreach (var a in new[] { "-u", RunAsUser!, "--", file }) info.ArgumentList.Add(a);
        }
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var info = Command(file, args);
        using var p = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed ({p.ExitCode}): {await stderr}{await stdout}");
    }

    private static string? FindOnPath(string name)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').ToList();
        // Debian puts the server binaries outside PATH; look there too.
        if (Directory.Exists("/usr/lib/postgresql"))
            dirs.AddRange(Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")));
        return dirs.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }
}
