using TimeFusion.Wire;
namespace TimeFusion.Silo.Protocol.Postgres.Wire;

/// <summary>
/// The client broke the protocol framing (bad length, unknown message type, oversized message): the
/// connection gets a FATAL ErrorResponse and is closed. Nothing else is affected.
/// </summary>
internal sealed class PgProtocolException(string message, string sqlState = SqlState.ProtocolViolation) : Exception(message)
{
    public string SqlState { get; } = sqlState;
}
