using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TimeFusion.Grains;
using TimeFusion.Silo.Protocol.Flight;
using TimeFusion.Silo.Protocol.Otlp.Mapping;
using TimeFusion.Silo.Security;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Otlp;

/// <summary>Who an export writes as and where: the authenticated user's caller and the target project.</summary>
/// <param name="Caller">The user as grain calls see it.</param>
/// <param name="Project">The project the rows go to.</param>
internal sealed record OtlpAccess(Caller Caller, string Project);

/// <summary>
/// What OTLP/HTTP and OTLP/gRPC share: authentication (the Flight authenticator: Basic, or a Flight bearer token),
/// the project (the <c>X-TimeFusion-Project</c> header or the user's default, checked against the user's grants) and
/// the write itself, through the same gateway insert as Flight's DoPut: one request is one batch per table,
/// acknowledged when durable.
/// </summary>
internal sealed class OtlpReceiver(IGrainFactory grains, FlightAuthenticator authenticator, IOptions<OtlpOptions> options,
    TimeProvider time, ILogger<OtlpReceiver> logger)
{
    /// <summary>The header (gRPC: metadata key) naming the target project.</summary>
    public const string ProjectHeader = "x-timefusion-project";

    /// <summary>The receiver's settings.</summary>
    public OtlpOptions Options => options.Value;

    /// <summary>Now, in microseconds since the epoch (for log records with no time).</summary>
    public long NowMicros => OtlpTime.NowMicros(time);

    /// <summary>Authenticates and picks the project; throws <see cref="OtlpFailureException"/> (401/403).</summary>
    public async ValueTask<OtlpAccess> AuthorizeAsync(string? authorization, string? project, System.Net.IPAddress? address,
        CancellationToken cancellationToken)
    {
        var (user, error) = await authenticator.AuthenticateHeaderAsync(authorization, address, cancellationToken);
        if (user is null) throw new OtlpFailureException(OtlpFailureKind.Unauthenticated, error);
        var caller = user.ToCaller();
        project = string.IsNullOrWhiteSpace(project) ? caller.DefaultProject : project.Trim();
        if (project is null)
            throw new OtlpFailureException(OtlpFailureKind.PermissionDenied, $"user '{user.Name}' has no default project: send the {ProjectHeader} header");
        if (!caller.IsAdmin && !caller.Projects.Contains(project))
            throw new OtlpFailureException(OtlpFailureKind.PermissionDenied, $"[{SqlState.InsufficientPrivilege}] permission denied for project '{project}'");
        return new OtlpAccess(caller, project);
    }

    /// <summary>Writes the mapped rows (nothing when every item was refused); returns them for the partial-success counts.</summary>
    public async Task<MappedRows> WriteAsync(MappedRows rows, OtlpAccess access, CancellationToken ct)
    {
        if (rows.Batch is null)
        {
            rows.Buffers?.Dispose();
            return rows;
        }
        try
        {
            await grains.GetGrain<IQueryGatewayGrain>(0).InsertAsync(access.Project, rows.Table, rows.Batch, access.Caller).WaitAsync(ct);
            rows.Buffers?.Dispose(); // the call completed: nothing reads the batch any more
            return rows;
        }
        catch (TimeFusionException e)
        {
            rows.Buffers?.Dispose(); // an answer from the grain: the call is over
            throw OtlpFailureException.From(e);
        }
        // Otherwise (cancelled, timed out) the call may still read the batch: its pooled arrays are left to the GC.
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "OTLP export to {Project}/{Table} failed", access.Project, rows.Table);
            throw new OtlpFailureException(OtlpFailureKind.Internal, "the export could not be stored; see the server log");
        }
    }
}
