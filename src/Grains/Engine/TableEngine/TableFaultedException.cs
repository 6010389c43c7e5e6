namespace TimeFusion.Engine;

/// <summary>
/// A table hit an error after a write was logged (its buffer no longer matches its WAL), so it refuses further
/// work until it is reopened, which rebuilds the buffer from Delta and the WAL. Retryable after reopening.
/// </summary>
public sealed class TableFaultedException(string message, Exception? inner) : Exception(message, inner);
