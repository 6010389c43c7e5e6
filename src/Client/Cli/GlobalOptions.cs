using System.CommandLine;

namespace TimeFusion.Client.Cli;

/// <summary>The options every server command takes: where the server is and who connects.</summary>
public sealed class GlobalOptions
{
    /// <summary>The environment variable holding the password when <c>--password</c> is not given.</summary>
    public const string PasswordVariable = "TIMEFUSION_PASSWORD";

    /// <summary><c>--server</c>: the Flight endpoint.</summary>
    public Option<string> Server { get; } = new("--server", "-s")
    {
        Description = "the server's Arrow Flight endpoint",
        DefaultValueFactory = _ => ServerAddress.Default,
        Recursive = true,
    };

    /// <summary><c>--user</c>.</summary>
    public Option<string> User { get; } = new("--user", "-u")
    {
        Description = "user name (the embedded server's default user is timefusion)",
        DefaultValueFactory = _ => "timefusion",
        Recursive = true,
    };

    /// <summary><c>--password</c>.</summary>
    public Option<string?> Password { get; } = new("--password", "-p")
    {
        Description = $"password (default: ${PasswordVariable}, else the embedded server's default, timefusion)",
        Recursive = true,
    };

    /// <summary>Adds the options to the root command (they apply to every subcommand).</summary>
    public void AddTo(RootCommand root)
    {
        root.Options.Add(Server);
        root.Options.Add(User);
        root.Options.Add(Password);
    }

    /// <summary>The connection settings of a parsed command line.</summary>
    public ConnectionSettings Read(ParseResult parse) => new(
        ServerAddress.Parse(parse.GetValue(Server) ?? ServerAddress.Default),
        parse.GetValue(User) ?? "timefusion",
        parse.GetValue(Password) ?? Environment.GetEnvironmentVariable(PasswordVariable) ?? "timefusion");
}

/// <summary>Where to connect and as whom.</summary>
public sealed record ConnectionSettings(ServerAddress Server, string User, string Password);
