namespace TimeFusion.Ingest;

/// <summary>
/// An incoming batch does not fit its table; nothing of it was written. The message names the column
/// (and, where it applies, the first offending row) so a client can fix its data.
/// </summary>
public sealed class BatchRejectedException(string message) : Exception(message);
