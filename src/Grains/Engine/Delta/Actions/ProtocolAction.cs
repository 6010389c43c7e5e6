namespace TimeFusion.Delta.Actions;

/// <summary>
/// The <c>protocol</c> action: the reader/writer protocol versions (and, at reader 3 / writer 7, the table
/// features) a client must implement to read or write the table.
/// </summary>
/// <param name="MinReaderVersion">Minimum reader protocol version.</param>
/// <param name="MinWriterVersion">Minimum writer protocol version.</param>
/// <param name="ReaderFeatures">Reader table features (present only at reader version 3).</param>
/// <param name="WriterFeatures">Writer table features (present only at writer version 7).</param>
public sealed record ProtocolAction(
    int MinReaderVersion,
    int MinWriterVersion,
    IReadOnlyList<string>? ReaderFeatures = null,
    IReadOnlyList<string>? WriterFeatures = null) : DeltaAction
{
    /// <summary>The protocol of the tables we create: reader 1, writer 2, no table features.</summary>
    public static ProtocolAction Default { get; } = new(1, 2);
}
