using TimeFusion.Silo.Protocol.Postgres;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// The users the PostgreSQL endpoint accepts, bound from <c>TimeFusion:Users</c>. Each user has a password
/// (plain, or a PostgreSQL <c>SCRAM-SHA-256$…</c> secret), the projects it may read and write (the first is its
/// default), or <c>IsAdmin</c> for all projects. The embedded default is one admin, <c>timefusion</c>/<c>timefusion</c>,
/// reachable only on loopback (the listener's default address).
/// </summary>
public sealed class PostgresUsersOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "TimeFusion:Users";

    /// <summary>The users; empty means the embedded default admin.</summary>
    public List<PostgresUser> Users { get; set; } = [];

    /// <summary>The configured users, or the embedded default.</summary>
    public IReadOnlyList<PostgresUser> Effective() => Users.Count > 0
        ? Users
        : [new PostgresUser { Name = "timefusion", PasswordOrScramSecret = "timefusion", IsAdmin = true, Projects = ["default"] }];
}
