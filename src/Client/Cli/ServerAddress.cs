namespace TimeFusion.Client.Cli;

/// <summary>A Flight endpoint given as <c>grpc://HOST:PORT</c> (or <c>grpc+tls://</c>, <c>http(s)://</c>, <c>HOST:PORT</c>).</summary>
public sealed record ServerAddress(string Text, Uri HttpUri)
{
    /// <summary>The embedded server's Flight endpoint.</summary>
    public const string Default = "grpc://127.0.0.1:50051";

    /// <summary>Parses <paramref name="text"/>; throws a usage <see cref="CliException"/> when it is not an address.</summary>
    public static ServerAddress Parse(string text)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "grpc://" + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Port <= 0 || string.IsNullOrEmpty(uri.Host))
            throw new CliException($"--server '{text}' is not an address like grpc://127.0.0.1:50051", ExitCodes.Usage);
        var scheme = uri.Scheme switch
        {
            "grpc" or "grpc+tcp" or "http" => "http",
            "grpc+tls" or "https" => "https",
            _ => throw new CliException($"--server '{text}': unknown scheme '{uri.Scheme}' (use grpc:// or grpc+tls://)", ExitCodes.Usage),
        };
        return new ServerAddress(text, new UriBuilder(scheme, uri.Host, uri.Port).Uri);
    }

    /// <inheritdoc />
    public override string ToString() => Text;
}
