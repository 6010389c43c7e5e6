using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace TimeFusion.Hosting;

/// <summary>Checks <c>TimeFusion:Cluster</c>: a parsable connection string (never echoed), ids, addresses, table names, probe settings, a readable certificate.</summary>
internal sealed partial class TimeFusionClusterOptionsValidator : IValidateOptions<TimeFusionClusterOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TimeFusionClusterOptions options)
    {
        var problems = new OptionsProblems(TimeFusionSections.Cluster);
        if (!options.Enabled) return problems.Result;
        if (ConnectionStringProblem(options.ConnectionString!) is { } problem)
            problems.Add(nameof(options.ConnectionString), "(hidden)", "is not a usable Azure Storage connection string: " + problem);
        problems.Require(Id().IsMatch(options.ClusterId), nameof(options.ClusterId), options.ClusterId, IdRule);
        if (!string.IsNullOrWhiteSpace(options.ServiceId))
            problems.Require(Id().IsMatch(options.ServiceId), nameof(options.ServiceId), options.ServiceId, IdRule);
        problems.RequireIpAddress(nameof(options.AdvertisedAddress), options.AdvertisedAddress);
        if (!string.IsNullOrWhiteSpace(options.ListenAddress)) problems.RequireIpAddress(nameof(options.ListenAddress), options.ListenAddress);
        problems.Require(TableName().IsMatch(options.MembershipTable), nameof(options.MembershipTable), options.MembershipTable, TableRule);
        problems.Require(TableName().IsMatch(options.CatalogTable), nameof(options.CatalogTable), options.CatalogTable, TableRule);
        problems.Require(options.MembershipTable != options.CatalogTable, nameof(options.CatalogTable), options.CatalogTable,
            $"must differ from {problems.Key(nameof(options.MembershipTable))}");
        problems.Require(options.ProbeTimeout >= TimeSpan.FromMilliseconds(100) && options.ProbeTimeout <= TimeSpan.FromMinutes(5),
            nameof(options.ProbeTimeout), options.ProbeTimeout, "must be between 00:00:00.1 and 00:05:00");
        problems.Require(options.MissedProbesLimit is >= 1 and <= 100, nameof(options.MissedProbesLimit), options.MissedProbesLimit, "must be between 1 and 100");
        if (!string.IsNullOrWhiteSpace(options.TlsCertificatePath))
        {
            try
            {
                using var _ = TimeFusionClusterTls.Load(options);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                problems.Add(nameof(options.TlsCertificatePath), options.TlsCertificatePath, "cannot be read as a PKCS#12 certificate with its password: " + e.Message);
            }
        }
        return problems.Result;
    }

    /// <summary>Why the Azure SDK refuses the connection string, or null (parsing only: no request is made).</summary>
    internal static string? ConnectionStringProblem(string connectionString)
    {
        try
        {
            var blob = new BlobServiceClient(connectionString);
            var table = new TableServiceClient(connectionString);
            return blob.Uri is null || table.Uri is null ? "no endpoint" : null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or UriFormatException)
        {
            // The SDK's messages name the missing part, never the key.
            return e.Message;
        }
    }

    private const string IdRule = "must be 1-63 letters, digits, '-' or '_'";
    private const string TableRule = "must be an Azure Table name: 3-63 letters and digits, starting with a letter";

    [GeneratedRegex("^[A-Za-z0-9_-]{1,63}$")]
    private static partial Regex Id();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    private static partial Regex TableName();
}
