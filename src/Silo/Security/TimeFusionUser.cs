using TimeFusion.Grains;
using TimeFusion.Silo.Protocol.Postgres;

namespace TimeFusion.Silo.Security;

/// <summary>A user of the server (PostgreSQL and Flight alike), bound from <c>TimeFusion:Users:&lt;n&gt;</c>.</summary>
public sealed class TimeFusionUser
{
    /// <summary>The user name (<c>TimeFusion:Users:&lt;n&gt;:Name</c>).</summary>
    public string Name { get; set; } = "";

    /// <summary>
    /// A plain password or a PostgreSQL SCRAM verifier (<c>SCRAM-SHA-256$&lt;iterations&gt;:&lt;salt&gt;$&lt;StoredKey&gt;:&lt;ServerKey&gt;</c>),
    /// which lets configuration hold no password at all.
    /// </summary>
    public string PasswordOrScramSecret { get; set; } = "";

    /// <summary>How the PostgreSQL endpoint asks for the password. Default SCRAM-SHA-256.</summary>
    public PostgresAuthMethod AuthMethod { get; set; } = PostgresAuthMethod.ScramSha256;

    /// <summary>The projects this user may read and write; the first is its default.</summary>
    public IReadOnlyList<string> Projects { get; set; } = [];

    /// <summary>Whether the user may use every project.</summary>
    public bool IsAdmin { get; set; }

    /// <summary>Who the user acts as in grain calls: its projects (the first the default), or an admin.</summary>
    public Caller ToCaller() => new(Projects.FirstOrDefault(), Projects, IsAdmin);
}
