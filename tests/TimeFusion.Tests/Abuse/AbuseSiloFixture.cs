using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Npgsql;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Abuse;

/// <summary>
/// One real silo process shared by the abuse tests: an admin and two tenants, TLS on PostgreSQL and Flight with a
/// self-signed certificate made here, small limits so each limit is cheap to reach.
/// </summary>
public sealed class AbuseSiloFixture : IAsyncLifetime
{
    public const string Admin = "root", AdminPassword = "root-pw";
    public const string Alice = "alice", AlicePassword = "alice-pw";
    public const string Bob = "bob", BobPassword = "bob-pw";
    public const int PerUserLimit = 6;
    public const long MaxBatchBytes = 8L << 20;
    public const string Table = "abuse_events";
    public const int FreeFailures = 3;

    private readonly TempDirectory _data = new();

    public RealSiloProcess Silo { get; private set; } = null!;

    /// <summary>The server's self-signed certificate (public part), for clients that pin it.</summary>
    public X509Certificate2 Certificate { get; private set; } = null!;

    public string CertificatePath => Path.Combine(_data.Path, "server.crt");

    public async Task InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        await File.WriteAllTextAsync(CertificatePath, certificate.ExportCertificatePem());
        var keyPath = Path.Combine(_data.Path, "server.key");
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
        Certificate = X509CertificateLoader.LoadCertificate(certificate.RawData);

        var settings = new Dictionary<string, string>
        {
            ["TimeFusion:Users:0:Name"] = Admin, ["TimeFusion:Users:0:PasswordOrScramSecret"] = AdminPassword,
            ["TimeFusion:Users:0:IsAdmin"] = "true", ["TimeFusion:Users:0:Projects:0"] = "adminproj",
            ["TimeFusion:Users:1:Name"] = Alice, ["TimeFusion:Users:1:PasswordOrScramSecret"] = AlicePassword, ["TimeFusion:Users:1:Projects:0"] = "alice",
            ["TimeFusion:Users:2:Name"] = Bob, ["TimeFusion:Users:2:PasswordOrScramSecret"] = BobPassword, ["TimeFusion:Users:2:Projects:0"] = "bob",
            ["TimeFusion:Postgres:MaxConnectionsPerUser"] = PerUserLimit.ToString(),
            ["TimeFusion:Postgres:Tls:CertificatePath"] = CertificatePath,
            ["TimeFusion:Postgres:Tls:KeyPath"] = keyPath,
            ["TimeFusion:Flight:Tls:CertificatePath"] = CertificatePath,
            ["TimeFusion:Flight:Tls:KeyPath"] = keyPath,
            ["TimeFusion:Ingest:MaxBatchBytes"] = MaxBatchBytes.ToString(),
            ["TimeFusion:Login:FreeFailures"] = FreeFailures.ToString(),
            ["TimeFusion:Login:BaseDelay"] = "00:00:00.300",
            ["TimeFusion:Login:MaxDelay"] = "00:00:01",
            ["TimeFusion:Buffer:Threads"] = "1",
        };
        Silo = new RealSiloProcess(_data.Path, settings);
        await Silo.StartAsync();
        // A narrow table: a batch's size is its data, not the offsets of a hundred empty columns.
        await using var admin = await OpenAsync(Admin, AdminPassword);
        await using var create = new NpgsqlCommand($"CREATE TABLE {Table} (timestamp TIMESTAMPTZ NOT NULL, id VARCHAR NOT NULL, attributes JSON, n BIGINT)", admin);
        await create.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        Certificate.Dispose();
        _data.Dispose();
    }

    /// <summary>Rows of <see cref="Table"/> in alice's project whose id starts with <paramref name="prefix"/>, as the admin sees them.</summary>
    public async Task<long> CountAsync(string prefix)
    {
        await using var admin = await OpenAsync(Admin, AdminPassword);
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM {Table} WHERE project_id = 'alice' AND id LIKE '{prefix}%'", admin);
        return Convert.ToInt64(await count.ExecuteScalarAsync());
    }

    /// <summary>A gRPC channel to the Flight endpoint over TLS, trusting exactly this fixture's certificate.</summary>
    public Grpc.Net.Client.GrpcChannel FlightChannel() => Grpc.Net.Client.GrpcChannel.ForAddress($"https://localhost:{Silo.FlightPort}",
        new Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = new System.Net.Http.SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(Certificate.RawData) },
            },
        });

    /// <summary>Opens a connection over TLS, trusting exactly this fixture's certificate.</summary>
    public Task<NpgsqlConnection> OpenAsync(string user, string password, Action<NpgsqlConnectionStringBuilder>? configure = null) =>
        Silo.OpenAsync(user, password, b =>
        {
            b.SslMode = SslMode.VerifyFull;
            b.RootCertificate = CertificatePath;
            b.Host = "localhost";
            configure?.Invoke(b);
        });
}

[CollectionDefinition(Name)]
public sealed class AbuseSiloCollection : ICollectionFixture<AbuseSiloFixture>
{
    public const string Name = "abuse-silo";
}
