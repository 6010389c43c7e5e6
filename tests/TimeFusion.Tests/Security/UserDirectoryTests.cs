using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TimeFusion.Silo.Backend;
using TimeFusion.Silo.Protocol.Postgres.Auth;
using TimeFusion.Silo.Security;

namespace TimeFusion.Tests.Security;

/// <summary>One user directory for every endpoint: flat keys, plain passwords and SCRAM verifiers, start-time checks.</summary>
public sealed class UserDirectoryTests
{
    private static UserDirectory Directory(params TimeFusionUser[] users) => new(Options.Create(new TimeFusionUsersOptions { Users = [.. users] }));

    [Fact]
    public void Verifies_plain_passwords_and_scram_verifiers()
    {
        var users = Directory(
            new TimeFusionUser { Name = "alice", PasswordOrScramSecret = "s3cret", Projects = ["a", "b"] },
            new TimeFusionUser { Name = "ops", PasswordOrScramSecret = ScramSecret.Create("scram-pw", 1024).ToString(), IsAdmin = true });
        Assert.Equal("alice", users.Verify("alice", "s3cret")?.Name);
        Assert.Null(users.Verify("alice", "wrong"));
        Assert.Null(users.Verify("nobody", "s3cret"));
        Assert.Equal("ops", users.Verify("ops", "scram-pw")?.Name);
        Assert.Equal("ops", users.Verify("ops", "scram-pw")?.Name); // remembered
        Assert.Null(users.Verify("ops", "scram-pw2"));
        var caller = users.Find("alice")!.ToCaller();
        Assert.Equal("a", caller.DefaultProject);
        Assert.Equal(["a", "b"], caller.Projects);
        Assert.False(caller.IsAdmin);
        Assert.True(users.Find("ops")!.ToCaller().IsAdmin);
    }

    [Fact]
    public void No_users_means_the_embedded_admin()
    {
        var users = Directory();
        Assert.True(users.Verify("timefusion", "timefusion")?.IsAdmin);
    }

    [Fact]
    public void Users_bind_from_flat_keys_and_postgres_sees_the_same_user()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TimeFusion:Users:0:Name"] = "grafana",
            ["TimeFusion:Users:0:PasswordOrScramSecret"] = "pw",
            ["TimeFusion:Users:0:Projects:0"] = "shop-prod",
            ["TimeFusion:Users:0:Projects:1"] = "shop-staging",
            ["TimeFusion:Users:1:Name"] = "root",
            ["TimeFusion:Users:1:PasswordOrScramSecret"] = "rootpw",
            ["TimeFusion:Users:1:IsAdmin"] = "true",
            ["TimeFusion:Users:1:AuthMethod"] = "Cleartext",
        }).Build());
        services.AddTimeFusionUsers().AddTimeFusionUsers();
        using var sp = services.BuildServiceProvider();
        var users = sp.GetRequiredService<UserDirectory>();
        Assert.Equal(["grafana", "root"], users.Users.Select(u => u.Name));
        Assert.Equal(["shop-prod", "shop-staging"], users.Find("grafana")!.Projects);
        Assert.NotNull(users.Verify("root", "rootpw"));
        var pg = ClusterPostgresBackend.ProtocolUserOf(users.Find("root")!);
        Assert.Same(pg, ClusterPostgresBackend.ProtocolUserOf(users.Find("root")!));
        Assert.Equal(Silo.Protocol.Postgres.PostgresAuthMethod.Cleartext, pg.AuthMethod);
        Assert.True(pg.IsAdmin);
    }

    [Fact]
    public void Bad_users_fail_at_start_naming_the_key_but_never_the_password()
    {
        var result = new TimeFusionUsersOptionsValidator().Validate(Options.DefaultName, new TimeFusionUsersOptions
        {
            Users =
            [
                new TimeFusionUser { Name = "a", PasswordOrScramSecret = "x" },
                new TimeFusionUser { Name = "a", PasswordOrScramSecret = "hunter2" },
                new TimeFusionUser { Name = "", PasswordOrScramSecret = "" },
            ],
        });
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("TimeFusion:Users:1:Name = 'a'", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("TimeFusion:Users:2:Name", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("TimeFusion:Users:2:PasswordOrScramSecret", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Failures!, f => f.Contains("hunter2", StringComparison.Ordinal));
    }
}
