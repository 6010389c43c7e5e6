using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo.Security;

/// <summary>Checks <c>TimeFusion:Users</c> at start: every user has a name (used once) and a password or verifier.</summary>
internal sealed class TimeFusionUsersOptionsValidator : IValidateOptions<TimeFusionUsersOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TimeFusionUsersOptions options)
    {
        var problems = new OptionsProblems(TimeFusionUsersOptions.Section);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Users.Count; i++)
        {
            var user = options.Users[i];
            problems.Require(!string.IsNullOrWhiteSpace(user.Name), $"{i}:Name", user.Name, "must not be empty");
            problems.Require(string.IsNullOrWhiteSpace(user.Name) || seen.Add(user.Name), $"{i}:Name", user.Name, "is used by an earlier user");
            // The value is a secret: never echoed.
            problems.Require(!string.IsNullOrEmpty(user.PasswordOrScramSecret), $"{i}:PasswordOrScramSecret", "", "must not be empty");
            problems.Require(Enum.IsDefined(user.AuthMethod), $"{i}:AuthMethod", user.AuthMethod, "must be ScramSha256 or Cleartext");
        }
        return problems.Result;
    }
}
