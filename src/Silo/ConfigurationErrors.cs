using Microsoft.Extensions.Options;

namespace TimeFusion.Silo;

/// <summary>The operator-facing lines of a failed configuration check (each names its key), or none for other failures.</summary>
internal static class ConfigurationErrors
{
    /// <summary>
    /// Every validation failure in <paramref name="e"/> (one, or several in an <see cref="AggregateException"/>), and
    /// binder failures (a value of the wrong type, e.g. an unknown storage kind: its message names the key).
    /// </summary>
    public static List<string> Of(Exception e)
    {
        var errors = new List<string>();
        var all = e is AggregateException aggregate ? aggregate.Flatten().InnerExceptions.ToList() : [e];
        foreach (var inner in all)
        {
            if (inner is OptionsValidationException validation) errors.AddRange(validation.Failures);
            else if (inner is InvalidOperationException binding && binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
                errors.Add(binding.Message);
            else return [];
        }
        return errors;
    }

    /// <summary>
    /// A start failure an operator can fix by configuration — Azure Storage unreachable or refusing the credentials, a
    /// port taken — as one line (no secrets, no stack), or null for anything else.
    /// </summary>
    public static string? OfStart(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException ?? (inner as AggregateException)?.InnerExceptions.FirstOrDefault())
        {
            switch (inner)
            {
                case Azure.RequestFailedException r:
                    return $"Azure Storage refused a request at start (HTTP {r.Status}, {r.ErrorCode ?? "no error code"}): check TimeFusion:Cluster:ConnectionString / TimeFusion:Storage:ConnectionString";
                case System.Net.Http.HttpRequestException h:
                    return $"Azure Storage cannot be reached ({h.Message}): check TimeFusion:Cluster:ConnectionString / TimeFusion:Storage:ConnectionString";
                case System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse } s:
                    return $"a port is already in use ({s.Message}): check TimeFusion:SiloPort, TimeFusion:GatewayPort, TimeFusion:Postgres:Port, TimeFusion:Flight:Port";
            }
        }
        return null;
    }
}
