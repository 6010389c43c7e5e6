using Microsoft.Extensions.Options;
using Npgsql;
using TimeFusion.Silo.Protocol.Postgres;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>A <see cref="PostgresServer"/> on a free loopback port over the DuckDB test backend, shared by the protocol tests.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    public const string User = "tf_user";
    public const string Password = "s3cret pass!";
    public const string CleartextUser = "plain_user";
    public const string CleartextPassword = "plain-pw";

    public DuckDbTestBackend Backend { get; } = new();

    public PostgresServer Server { get; private set; } = null!;

    public int Port => Server.LocalEndPoint!.Port;

    public PostgresServerOptions Options { get; } = new()
    {
        ListenAddress = "127.0.0.1",
        Port = 0, // the listener picks a free loopback port; LocalEndPoint says which
        StatementTimeout = TimeSpan.FromSeconds(60),
        AuthenticationTimeout = TimeSpan.FromSeconds(10),
        MaxMessageBytes = 8 * 1024 * 1024,
    };

    public async Task InitializeAsync()
    {
        Backend.AddUser(User, Password);
        Backend.AddUser(CleartextUser, CleartextPassword, PostgresAuthMethod.Cleartext);
        Server = new PostgresServer(Backend, Microsoft.Extensions.Options.Options.Create(Options));
        await Server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_shared is not null)
        {
            await _shared.DisposeAsync();
        }
        await Server.DisposeAsync();
        await Backend.DisposeAsync();
    }

    public string ConnectionString(string? user = null, string? password = null, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = user ?? User,
            Password = password ?? Password,
            Database = "tf",
            Timeout = 15,
            CommandTimeout = 60,
            Pooling = false,
        };
        configure?.Invoke(builder);
        return builder.ConnectionString;
    }

    /// <summary>
    /// A data source without type loading (the pg_catalog queries Npgsql sends otherwise are the backend's to
    /// answer later; the equivalent of the obsolete <c>ServerCompatibilityMode=NoTypeLoading</c>).
    /// </summary>
    public NpgsqlDataSource CreateDataSource(string? user = null, string? password = null, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var builder = new NpgsqlDataSourceBuilder(ConnectionString(user, password, configure));
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        return builder.Build();
    }

    private NpgsqlDataSource? _shared;

    /// <summary>Opens a new physical connection (pooling off) through a shared data source.</summary>
    public async Task<NpgsqlConnection> OpenAsync()
    {
        _shared ??= CreateDataSource();
        return await _shared.OpenConnectionAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "postgres-wire";
}
