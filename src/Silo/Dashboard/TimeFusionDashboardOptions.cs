namespace TimeFusion.Silo.Dashboard;

/// <summary>
/// The Orleans Dashboard on this silo, bound from <c>TimeFusion:Dashboard</c>. Off by default; when on it listens on
/// loopback unless <see cref="Host"/> says otherwise, and every request must carry HTTP Basic credentials of an admin
/// user of <c>TimeFusion:Users</c> (the dashboard shows every grain and can read grain state).
/// </summary>
public sealed class TimeFusionDashboardOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "TimeFusion:Dashboard";

    /// <summary>Whether the dashboard runs. Default false (nothing listens).</summary>
    public bool Enabled { get; set; }

    /// <summary>The address it listens on. Default <c>127.0.0.1</c> (reach it through an SSH tunnel or a proxy).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The HTTP port. Default 8080 (0: any free port).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>How often each silo samples the counters the dashboard charts. Default 1 s (Orleans' default).</summary>
    public TimeSpan CounterUpdateInterval { get; set; } = TimeSpan.FromSeconds(1);
}
