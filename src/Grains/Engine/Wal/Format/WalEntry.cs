namespace TimeFusion.Wal;

/// <summary>One replayed WAL entry. The payload is owned by the entry (not a pooled buffer): keep it as long as needed.</summary>
public sealed class WalEntry
{
    internal WalEntry(int formatVersion, long lsn, WalOperation operation, string project, string table, ReadOnlyMemory<byte> payload,
        byte[]? pinnedBlock = null)
    {
        PinnedBlock = pinnedBlock;
        FormatVersion = formatVersion;
        Lsn = lsn;
        Operation = operation;
        Project = project;
        Table = table;
        Payload = payload;
    }

    /// <summary>The envelope format version the entry was written with.</summary>
    public int FormatVersion { get; }

    /// <summary>The log sequence number: unique, increasing in file order, never reused for this (project, table).</summary>
    public long Lsn { get; }

    /// <summary>What the entry records.</summary>
    public WalOperation Operation { get; }

    /// <summary>The full project name stored in the entry (checked against the log's identity).</summary>
    public string Project { get; }

    /// <summary>The full table name stored in the entry (checked against the log's identity).</summary>
    public string Table { get; }

    /// <summary>
    /// Arrow IPC stream bytes for <see cref="WalOperation.Insert"/> — for an entry that left its all-null columns out, a
    /// stream form carrying the full schema too (<see cref="WalProjectedInserts"/>): decode either with
    /// <see cref="WalPayloads.DecodeInsert"/>, which gives the full-width batch;
    /// a DML record for delete/update (<see cref="WalPayloads.DecodeDml"/>).
    /// </summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>
    /// The array <see cref="Payload"/> fills whole when it was allocated on the pinned object heap for this entry alone
    /// (a large insert); null otherwise. Nothing writes it after the entry is read.
    /// </summary>
    internal byte[]? PinnedBlock { get; }
}
