namespace TimeFusion.Silo.Protocol.Postgres.Connection;

/// <summary>The client's socket failed or closed while we wrote or read: the connection ends quietly.</summary>
internal sealed class ClientGoneException(string message, Exception? inner = null) : Exception(message, inner);
