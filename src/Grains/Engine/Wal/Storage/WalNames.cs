using System.Text;
using TimeFusion.Tables;

namespace TimeFusion.Wal;

/// <summary>A log's full project and table names, in the forms the writer and the checks need.</summary>
internal sealed class WalNames
{
    public WalNames(TableId id)
    {
        Id = id;
        ProjectUtf8 = Encoding.UTF8.GetBytes(id.Project);
        TableUtf8 = Encoding.UTF8.GetBytes(id.Table);
        Encoded = WalEnvelope.EncodeNames(id.Project, id.Table);
    }

    public TableId Id { get; }

    public byte[] ProjectUtf8 { get; }

    public byte[] TableUtf8 { get; }

    /// <summary>Both names as MessagePack strings, copied into every envelope.</summary>
    public byte[] Encoded { get; }

    /// <summary>Throws <see cref="WalIdentityException"/> when an entry names another (project, table).</summary>
    public void Check(in WalEnvelopeHeader header, string segment, long position)
    {
        if (header.ProjectUtf8.Span.SequenceEqual(ProjectUtf8) && header.TableUtf8.Span.SequenceEqual(TableUtf8)) return;
        throw new WalIdentityException(
            $"WAL entry at byte {position} of segment '{segment}' (LSN {header.Lsn}) belongs to project " +
            $"'{Decode(header.ProjectUtf8)}' table '{Decode(header.TableUtf8)}', not to project '{Id.Project}' table '{Id.Table}'");
    }

    private static string Decode(ReadOnlyMemory<byte> utf8)
    {
        var text = Encoding.UTF8.GetString(utf8.Span);
        return text.Length > 200 ? text[..200] + "…" : text;
    }
}
