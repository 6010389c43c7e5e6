namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>A user allowed to connect over the PostgreSQL wire protocol (bindable from configuration).</summary>
public sealed class PostgresUser
{
    /// <summary>The user name clients send in the startup packet.</summary>
    public string Name { get; set; } = "";

    /// <summary>
    /// Either a plain password or a PostgreSQL SCRAM verifier
    /// (<c>SCRAM-SHA-256$&lt;iterations&gt;:&lt;salt&gt;$&lt;StoredKey&gt;:&lt;ServerKey&gt;</c>, see <see cref="Auth.ScramSecret"/>),
    /// which lets configuration hold no password at all.
    /// </summary>
    public string PasswordOrScramSecret { get; set; } = "";

    /// <summary>How the user authenticates. Default SCRAM-SHA-256.</summary>
    public PostgresAuthMethod AuthMethod { get; set; } = PostgresAuthMethod.ScramSha256;

    /// <summary>The projects this user may read and write (enforced by the backend).</summary>
    public IReadOnlyList<string> Projects { get; set; } = [];

    /// <summary>Whether the user may administer every project (enforced by the backend).</summary>
    public bool IsAdmin { get; set; }
}
