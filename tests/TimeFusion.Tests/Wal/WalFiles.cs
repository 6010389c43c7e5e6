using System.Buffers;
using MessagePack;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

/// <summary>Direct access to a local log's files, and hand-made frames, for damage and hostile-content tests.</summary>
public static class WalFiles
{
    public static string Folder(string root, TableId id) => Path.Combine(root, StoragePathNames.WalRoot(id).Replace('/', Path.DirectorySeparatorChar));

    public static string[] Segments(string root, TableId id) => Directory.GetFiles(Folder(root, id), "*.wal").Order(StringComparer.Ordinal).ToArray();

    /// <summary>A frame around arbitrary envelope bytes, with a correct CRC.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> envelope)
    {
        var frame = new byte[8 + envelope.Length];
        WalEntryFraming.WriteHeader(frame, envelope.Length, Crc32C.Compute(envelope));
        envelope.CopyTo(frame.AsSpan(8));
        return frame;
    }

    /// <summary>An envelope built field by field (any types, any count).</summary>
    public delegate void Write(ref MessagePackWriter writer);

    public static byte[] Envelope(Write write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A well-formed version-1 envelope with the given fields.</summary>
    public static byte[] GoodEnvelope(long lsn, TableId id, byte[] payload, int version = 1, byte op = 1) => Envelope((ref MessagePackWriter w) =>
    {
        w.WriteArrayHeader(6);
        w.Write(version);
        w.Write(lsn);
        w.Write(op);
        w.Write(id.Project);
        w.Write(id.Table);
        w.Write(payload);
    });

    /// <summary>Every entry of an intact segment file: the position of its payload in the file, and the payload.</summary>
    public static List<(int Position, byte[] Payload)> Payloads(string segment)
    {
        var bytes = File.ReadAllBytes(segment);
        var list = new List<(int, byte[])>();
        for (var at = 0; at < bytes.Length;)
        {
            var (length, _) = WalEntryFraming.ReadHeader(bytes.AsSpan(at));
            var envelope = bytes.AsMemory(at + WalEntryFraming.HeaderBytes, (int)length);
            var payload = WalEnvelope.Decode(envelope).Payload;
            // The payload is the envelope's last field.
            list.Add((at + WalEntryFraming.HeaderBytes + (int)length - payload.Length, payload.ToArray()));
            at += WalEntryFraming.HeaderBytes + (int)length;
        }
        return list;
    }

    /// <summary>0 and the end of every frame of a segment file, up to its end or the first zero length (a zero tail).</summary>
    public static List<long> FrameEnds(string segment)
    {
        var bytes = File.ReadAllBytes(segment);
        var ends = new List<long> { 0 };
        for (var at = 0; at + WalEntryFraming.HeaderBytes <= bytes.Length;)
        {
            var (length, _) = WalEntryFraming.ReadHeader(bytes.AsSpan(at));
            if (length == 0) break;
            at += WalEntryFraming.HeaderBytes + (int)length;
            ends.Add(at);
        }
        return ends;
    }

    public static void Append(string file, byte[] bytes)
    {
        using var stream = new FileStream(file, FileMode.Append, FileAccess.Write);
        stream.Write(bytes);
    }
}
