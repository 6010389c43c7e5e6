using TimeFusion.Silo.Protocol.Postgres.Auth;

namespace TimeFusion.Tests.Protocol.Postgres;

public sealed class ScramTests
{
    // RFC 7677 §3: user "user", password "pencil".
    private const string ClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    private const string ServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private const string ClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

    [Fact]
    public void Server_side_matches_the_rfc_7677_example()
    {
        var secret = ScramSecret.Derive("pencil", Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        var exchange = ScramServerExchange.Start(secret, ClientFirst, ServerNonce);
        Assert.Equal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", exchange.ServerFirstMessage);
        Assert.Equal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", exchange.Finish(ClientFinal));
    }

    [Fact]
    public void Wrong_password_gives_no_server_signature()
    {
        var secret = ScramSecret.Derive("not pencil", Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        var exchange = ScramServerExchange.Start(secret, ClientFirst, ServerNonce);
        Assert.Null(exchange.Finish(ClientFinal));
    }

    [Theory]
    [InlineData("p=tls-server-end-point,,n=,r=abc")]
    [InlineData("x,,n=,r=abc")]
    [InlineData("n,a=admin,n=,r=abc")]
    [InlineData("n,,r=abc")]
    [InlineData("n,,n=,r=")]
    [InlineData("garbage")]
    public void Unsupported_or_malformed_client_first_messages_are_refused(string clientFirst)
    {
        Assert.Throws<ScramException>(() => ScramServerExchange.Start(ScramSecret.Create("pw"), clientFirst));
    }

    [Fact]
    public void Tampered_final_messages_are_refused()
    {
        var secret = ScramSecret.Derive("pencil", Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        Assert.Throws<ScramException>(() => ScramServerExchange.Start(secret, ClientFirst, ServerNonce).Finish(ClientFinal.Replace("c=biws", "c=eSws")));
        Assert.Throws<ScramException>(() => ScramServerExchange.Start(secret, ClientFirst, ServerNonce).Finish(ClientFinal.Replace("hNlF$k0", "hNlF$k1")));
        Assert.Throws<ScramException>(() => ScramServerExchange.Start(secret, ClientFirst, ServerNonce).Finish("c=biws,r=x"));
    }

    [Fact]
    public void Verifier_text_round_trips_and_verifies_passwords()
    {
        var secret = ScramSecret.Create("hunter2");
        Assert.StartsWith("SCRAM-SHA-256$4096:", secret.ToString());
        Assert.True(ScramSecret.TryParse(secret.ToString(), out var parsed));
        Assert.True(parsed.Verify("hunter2"));
        Assert.False(parsed.Verify("hunter3"));
        Assert.False(ScramSecret.TryParse("hunter2", out _));
        Assert.False(ScramSecret.TryParse("SCRAM-SHA-256$x:y$z", out _));
    }
}
