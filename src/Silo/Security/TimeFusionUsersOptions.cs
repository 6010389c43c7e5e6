namespace TimeFusion.Silo.Security;

/// <summary>
/// The users the server accepts on every endpoint, bound from the list at <c>TimeFusion:Users</c>
/// (<c>TimeFusion:Users:0:Name</c>, …). The embedded default is one admin, <c>timefusion</c>/<c>timefusion</c>,
/// reachable only on loopback (the listeners' default address).
/// </summary>
public sealed class TimeFusionUsersOptions
{
    /// <summary>The configuration section (a list).</summary>
    public const string Section = "TimeFusion:Users";

    /// <summary>The users; empty means the embedded default admin.</summary>
    public List<TimeFusionUser> Users { get; set; } = [];

    /// <summary>The configured users, or the embedded default.</summary>
    public IReadOnlyList<TimeFusionUser> Effective() => Users.Count > 0
        ? Users
        : [new TimeFusionUser { Name = "timefusion", PasswordOrScramSecret = "timefusion", IsAdmin = true, Projects = ["default"] }];
}
