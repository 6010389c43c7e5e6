namespace TimeFusion.Recovery;

/// <summary>A table cannot be recovered consistently (e.g. its WAL is behind its Delta table); the message says why.</summary>
public sealed class TableRecoveryException(string message) : Exception(message);
