using System.Buffers;
using MessagePack;

namespace TimeFusion.Wal;

/// <summary>One write of a <see cref="WalOperation.Transaction"/> entry.</summary>
/// <param name="Operation"><see cref="WalOperation.Insert"/>, <see cref="WalOperation.Delete"/> or <see cref="WalOperation.Update"/>.</param>
/// <param name="Payload">For an insert the whole Arrow IPC stream (<see cref="WalPayloads.EncodeInsert"/>); for a delete or
/// update the <see cref="DmlRecord"/> (<see cref="WalPayloads.EncodeDml"/>).</param>
public readonly record struct WalTransactionStep(WalOperation Operation, ReadOnlyMemory<byte> Payload);

/// <summary>
/// The payload of a <see cref="WalOperation.Transaction"/> entry: a transaction block's writes to one (project, table),
/// in statement order, as the MessagePack array <c>[version 1, [[operation, payload(bin)], …]]</c>. Each step's payload is
/// exactly what a plain entry of that operation carries (an insert's full IPC stream, not a schema-sharing form), so
/// replay decodes it with the same readers. One entry is one frame with one CRC: it is its own commit record.
/// </summary>
public static class WalTransaction
{
    private const int Version = 1;

    /// <summary>Encodes the steps (at least one; nested transactions are refused).</summary>
    public static byte[] Encode(IReadOnlyList<WalTransactionStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0) throw new ArgumentException("a transaction entry holds at least one step", nameof(steps));
        var buffer = new ArrayBufferWriter<byte>(checked((int)Math.Min(int.MaxValue, 16 + steps.Sum(s => s.Payload.Length + 8L))));
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.Write(Version);
        writer.WriteArrayHeader(steps.Count);
        foreach (var step in steps)
        {
            if (step.Operation is not (WalOperation.Insert or WalOperation.Delete or WalOperation.Update))
                throw new ArgumentOutOfRangeException(nameof(steps), step.Operation, "a transaction step is an Insert, a Delete or an Update");
            writer.WriteArrayHeader(2);
            writer.Write((byte)step.Operation);
            writer.Write(step.Payload.Span);
        }
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes the steps (slices of <paramref name="payload"/>), checking every type and count.</summary>
    /// <exception cref="WalFormatException">Malformed, wrong types, an unknown version or step operation, no steps.</exception>
    public static IReadOnlyList<WalTransactionStep> Decode(ReadOnlyMemory<byte> payload)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            Expect(ref reader, MessagePackType.Array, "transaction");
            if (reader.ReadArrayHeader() != 2) throw new WalFormatException("transaction entry does not have 2 fields");
            Expect(ref reader, MessagePackType.Integer, "version");
            var version = reader.ReadInt64();
            if (version != Version) throw new WalFormatException($"unsupported transaction entry version {version} (this build reads {Version})");
            Expect(ref reader, MessagePackType.Array, "steps");
            var count = reader.ReadArrayHeader();
            if (count < 1) throw new WalFormatException("transaction entry has no steps");
            var steps = new List<WalTransactionStep>(Math.Min(count, 1024));
            for (var i = 0; i < count; i++)
            {
                Expect(ref reader, MessagePackType.Array, "step");
                if (reader.ReadArrayHeader() != 2) throw new WalFormatException($"transaction step {i} does not have 2 fields");
                Expect(ref reader, MessagePackType.Integer, "step operation");
                var op = reader.ReadInt64();
                if (op is not ((long)WalOperation.Insert or (long)WalOperation.Delete or (long)WalOperation.Update))
                    throw new WalFormatException($"transaction step {i} has operation {op}");
                Expect(ref reader, MessagePackType.Binary, "step payload");
                var bytes = reader.ReadBytes()!.Value;
                var end = checked((int)reader.Consumed);
                steps.Add(new WalTransactionStep((WalOperation)op, payload.Slice(end - (int)bytes.Length, (int)bytes.Length)));
            }
            if (!reader.End) throw new WalFormatException("transaction entry has bytes after its steps");
            return steps;
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentException)
        {
            throw new WalFormatException($"malformed transaction entry: {e.Message}", e);
        }
    }

    private static void Expect(ref MessagePackReader reader, MessagePackType type, string field)
    {
        if (reader.End) throw new WalFormatException($"transaction entry ends before field '{field}'");
        var actual = reader.NextMessagePackType;
        if (actual != type) throw new WalFormatException($"transaction entry field '{field}' is {actual}, expected {type}");
    }
}
