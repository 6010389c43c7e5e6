using Microsoft.Extensions.Options;
using TimeFusion.Hosting;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>Checks <c>TimeFusion:Postgres</c> at start.</summary>
internal sealed class PostgresServerOptionsValidator : IValidateOptions<PostgresServerOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PostgresServerOptions o)
    {
        var problems = new OptionsProblems(PostgresServerOptions.Section);
        problems.RequireIpAddress(nameof(o.ListenAddress), o.ListenAddress);
        problems.RequirePort(nameof(o.Port), o.Port);
        problems.Require(o.MaxConnections >= 1, nameof(o.MaxConnections), o.MaxConnections, "must be at least 1");
        problems.Require(o.ReservedAdminConnections >= 0 && o.ReservedAdminConnections < o.MaxConnections, nameof(o.ReservedAdminConnections),
            o.ReservedAdminConnections, "must be 0 or more and less than MaxConnections");
        problems.Require(o.MaxConnectionsPerUser >= 0, nameof(o.MaxConnectionsPerUser), o.MaxConnectionsPerUser, "must be 0 (no limit) or more");
        problems.Require(o.MaxStartupConnections >= 1, nameof(o.MaxStartupConnections), o.MaxStartupConnections, "must be at least 1");
        problems.Require(o.MaxMessageBytes >= 1024, nameof(o.MaxMessageBytes), o.MaxMessageBytes, "must be at least 1024");
        problems.Require(o.MaxStartupPacketBytes >= 64, nameof(o.MaxStartupPacketBytes), o.MaxStartupPacketBytes, "must be at least 64");
        problems.Require(o.AuthenticationTimeout > TimeSpan.Zero, nameof(o.AuthenticationTimeout), o.AuthenticationTimeout, "must be positive");
        problems.Require(o.StatementTimeout >= TimeSpan.Zero, nameof(o.StatementTimeout), o.StatementTimeout, "must not be negative (0 disables)");
        problems.Require(o.OutputFlushBytes >= 1, nameof(o.OutputFlushBytes), o.OutputFlushBytes, "must be positive");
        problems.Require(o.CopyBatchRows >= 1, nameof(o.CopyBatchRows), o.CopyBatchRows, "must be positive");
        problems.Require(o.CopyBatchBytes >= 1, nameof(o.CopyBatchBytes), o.CopyBatchBytes, "must be positive");
        problems.Require(!string.IsNullOrWhiteSpace(o.ServerVersion), nameof(o.ServerVersion), o.ServerVersion, "must not be empty");
        problems.Require(o.ScramIterations >= 1, nameof(o.ScramIterations), o.ScramIterations, "must be positive");
        problems.Require(o.ShutdownGracePeriod >= TimeSpan.Zero, nameof(o.ShutdownGracePeriod), o.ShutdownGracePeriod, "must not be negative");
        if (o.Tls.Enabled)
        {
            try
            {
                TimeFusion.Silo.Security.ServerCertificates.Load(o.Tls, PostgresServerOptions.Section + ":Tls")?.Dispose();
            }
            catch (InvalidOperationException e)
            {
                problems.Add("Tls:CertificatePath", o.Tls.CertificatePath, e.InnerException?.Message ?? e.Message);
            }
        }
        return problems.Result;
    }
}
