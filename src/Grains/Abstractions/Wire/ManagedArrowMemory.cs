using System.Buffers;
using System.Runtime.CompilerServices;
using Apache.Arrow;
using Apache.Arrow.Memory;

namespace TimeFusion.Wire;

/// <summary>
/// Finishes Arrow builders into arrays over ordinary managed memory, for every builder on the write paths.
/// An <see cref="ArrowBuffer"/> built from an allocator's memory owner carries a finalizable handle; a batch handed
/// through Orleans, the WAL and the buffer is never disposed, so each buffer was freed by the finalizer thread —
/// with Arrow's default native allocator also by <c>FreeHGlobal</c> and <c>GC.RemoveMemoryPressure</c>. Profiles of
/// 30-row INSERTs spent a third of the silo's CPU there (docs/BENCHMARKS.md). Buffers made here wrap managed arrays
/// directly (no handle): the GC reclaims them like any other object. They are not 64-byte aligned; nothing we hand
/// them to needs that (the IPC writer pads, DuckDB's Arrow conversion reads unaligned).
/// </summary>
public sealed class ManagedArrowMemory : MemoryAllocator
{
    private static readonly ManagedArrowMemory Instance = new(pinned: false);
    private static readonly ManagedArrowMemory PinnedInstance = new(pinned: true);
    private readonly bool _pinned;

    private ManagedArrowMemory(bool pinned) : base(alignment: 8) => _pinned = pinned;

    /// <summary>The builder's array, over managed memory without finalizable handles.</summary>
    public static TArray Build<TArray>(IArrowArrayBuilder<TArray> builder) where TArray : IArrowArray
    {
        ArgumentNullException.ThrowIfNull(builder);
        var built = builder.Build(Instance);
        var data = Unowned(built.Data);
        // Suppresses the handles' finalizers; the memory stays (our owners' Dispose frees nothing).
        built.Dispose();
        return (TArray)ArrowArrayFactory.BuildArray(data);
    }

    /// <summary>The arrays' values one after the other (slices honoured), in one array over managed memory.</summary>
    public static IArrowArray Concatenate(IReadOnlyList<IArrowArray> arrays) => Concatenate(arrays, pinned: false);

    /// <summary>
    /// As <see cref="Concatenate(IReadOnlyList{IArrowArray})"/>; with <paramref name="pinned"/> the memory is on the pinned
    /// object heap, for native code that reads it in place after the call (DuckDB's scan of the buffer's tail).
    /// </summary>
    public static IArrowArray Concatenate(IReadOnlyList<IArrowArray> arrays, bool pinned)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        // Apache.Arrow hands a single array back as it is (no copy, its memory still the original's): an empty slice
        // after it makes it copy.
        if (arrays.Count == 1) arrays = [arrays[0], ArrowArrayFactory.Slice(arrays[0], 0, 0)];
        var built = ArrowArrayConcatenator.Concatenate(arrays, pinned ? PinnedInstance : Instance)
            ?? throw new ArgumentException("nothing to concatenate", nameof(arrays));
        var data = Unowned(built.Data);
        built.Dispose();
        return ArrowArrayFactory.BuildArray(data);
    }

    /// <summary>The builder's buffer, taking its managed memory over without a copy (the builder is not used again).</summary>
    public static ArrowBuffer Build<T>(ArrowBuffer.Builder<T> builder) where T : struct
    {
        ArgumentNullException.ThrowIfNull(builder);
        return new ArrowBuffer(builder.Memory[..(builder.Length * Unsafe.SizeOf<T>())]);
    }

    /// <summary>The bitmap's buffer, taking its managed memory over without a copy (the builder is not used again).</summary>
    public static ArrowBuffer Build(ArrowBuffer.BitmapBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return new ArrowBuffer(builder.Memory[..((builder.Length + 7) / 8)]);
    }

    private static ArrayData Unowned(ArrayData data) => new(
        data.DataType, data.Length, data.NullCount, data.Offset,
        data.Buffers.Select(b => new ArrowBuffer(b.Memory)),
        data.Children?.Select(Unowned),
        data.Dictionary is null ? null : Unowned(data.Dictionary));

    /// <inheritdoc />
    protected override IMemoryOwner<byte> AllocateInternal(int length, out int bytesAllocated)
    {
        bytesAllocated = length;
        return new Owner(length == 0 ? [] : _pinned ? GC.AllocateArray<byte>(length, pinned: true) : new byte[length]);
    }

    private sealed class Owner(byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory => array;

        public void Dispose()
        {
        }
    }
}
