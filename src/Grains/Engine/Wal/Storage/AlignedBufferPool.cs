using System.Runtime.InteropServices;

namespace TimeFusion.Wal;

/// <summary>A pinned buffer whose first byte is <see cref="DirectFile.Block"/>-aligned (an O_DIRECT write's source).</summary>
internal sealed class AlignedBuffer
{
    private readonly byte[] _array;
    private readonly int _offset;

    public AlignedBuffer(int capacity)
    {
        _array = GC.AllocateUninitializedArray<byte>(capacity + DirectFile.Block, pinned: true);
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(_array, 0).ToInt64();
        _offset = (int)((DirectFile.Block - address % DirectFile.Block) % DirectFile.Block);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public Span<byte> Span => _array.AsSpan(_offset, Capacity);
}

/// <summary>
/// Aligned buffers for the WAL's group writes, shared by every log of the process: a group rents one as large as its
/// blocks (power-of-two sizes from 64 KiB), copies its frames in — the only copy, replacing the page cache's — writes
/// it and gives it back. A few idle buffers per size up to 16 MiB are kept; larger ones go back to the GC.
/// </summary>
internal static class AlignedBufferPool
{
    private const int MinShift = 16;
    private const int MaxKeptShift = 24;
    private const int KeptPerSize = 4;
    private static readonly Stack<AlignedBuffer>[] Idle = Enumerable.Range(0, MaxKeptShift - MinShift + 1).Select(_ => new Stack<AlignedBuffer>()).ToArray();

    /// <summary>A buffer of at least <paramref name="bytes"/> bytes (contents unspecified).</summary>
    public static AlignedBuffer Rent(long bytes)
    {
        if (bytes > Array.MaxLength - 2 * DirectFile.Block) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "too large for one WAL write");
        var shift = Math.Max(MinShift, 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)Math.Max(bytes - 1, 1)));
        if (shift > MaxKeptShift) return new AlignedBuffer((int)Math.Min(1L << shift, Array.MaxLength - 2 * DirectFile.Block));
        var stack = Idle[shift - MinShift];
        lock (stack)
        {
            if (stack.TryPop(out var buffer)) return buffer;
        }
        return new AlignedBuffer(1 << shift);
    }

    public static void Return(AlignedBuffer buffer)
    {
        var shift = System.Numerics.BitOperations.Log2((uint)buffer.Capacity);
        if (shift is < MinShift or > MaxKeptShift || 1 << shift != buffer.Capacity) return;
        var stack = Idle[shift - MinShift];
        lock (stack)
        {
            if (stack.Count < KeptPerSize) stack.Push(buffer);
        }
    }
}
