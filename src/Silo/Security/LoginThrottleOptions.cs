namespace TimeFusion.Silo.Security;

/// <summary>
/// The login failure back-off shared by every endpoint (bound from <c>TimeFusion:Login</c>): after
/// <see cref="FreeFailures"/> failed logins for one user name, or from one address, each further attempt for that
/// name or from that address waits its turn — <see cref="BaseDelay"/>, doubling per failure up to <see cref="MaxDelay"/> —
/// so guessing passwords is slow however many connections are used. A success clears the record; so does
/// <see cref="ForgetAfter"/> without failures.
/// </summary>
public sealed class LoginThrottleOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "TimeFusion:Login";

    /// <summary>Failures allowed without delay. Default 5.</summary>
    public int FreeFailures { get; set; } = 5;

    /// <summary>The delay after the first failure beyond <see cref="FreeFailures"/>. Default 200 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between two attempts. Default 5 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long without a failure before a name's or address's failures are forgotten. Default 1 min.</summary>
    public TimeSpan ForgetAfter { get; set; } = TimeSpan.FromMinutes(1);
}
