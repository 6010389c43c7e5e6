using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;

namespace TimeFusion.Silo.Protocol.Otlp.Mapping;

/// <summary>
/// A growable buffer of <typeparamref name="T"/> on <see cref="ArrayPool{T}.Shared"/> bytes, handed to Arrow without a
/// copy (<see cref="ToArrowBuffer"/>). Arrow's own builders allocate a fresh array per growth step (large-object heap for
/// the multi-MB columns of an 8,192-item export) and copy everything once more into native memory on build, which the
/// finalizer then frees: the profile's largest mapping cost. The owner returns the array with <see cref="Return"/> once
/// nothing reads the batch any more.
/// </summary>
internal sealed class PooledBuffer<T> where T : unmanaged
{
    private static readonly int Size = Unsafe.SizeOf<T>();
    private byte[] _array;

    /// <summary>A buffer with room for <paramref name="capacity"/> items.</summary>
    public PooledBuffer(int capacity) => _array = ArrayPool<byte>.Shared.Rent(Math.Max(64, capacity * Size));

    /// <summary>The items appended.</summary>
    public int Count { get; private set; }

    /// <summary>The items as a span.</summary>
    public Span<T> Span => MemoryMarshal.Cast<byte, T>(_array.AsSpan(0, Count * Size));

    /// <summary>Appends one item.</summary>
    public void Append(T value)
    {
        Ensure(Count + 1);
        MemoryMarshal.Write(_array.AsSpan(Count * Size), in value);
        Count++;
    }

    /// <summary>Appends items.</summary>
    public void Append(ReadOnlySpan<T> values)
    {
        Ensure(Count + values.Length);
        MemoryMarshal.AsBytes(values).CopyTo(_array.AsSpan(Count * Size));
        Count += values.Length;
    }

    /// <summary>Room to write <paramref name="count"/> more items directly (commit them with <see cref="Advance"/>).</summary>
    public Span<T> GetSpan(int count)
    {
        Ensure(Count + count);
        return MemoryMarshal.Cast<byte, T>(_array.AsSpan(Count * Size, count * Size));
    }

    /// <summary>Commits items written into <see cref="GetSpan"/>.</summary>
    public void Advance(int count) => Count += count;

    /// <summary>Keeps the first <paramref name="count"/> items (or pads with zeros up to it).</summary>
    public void Resize(int count)
    {
        Ensure(count);
        if (count > Count) _array.AsSpan(Count * Size, (count - Count) * Size).Clear();
        Count = count;
    }

    /// <summary>The items as an Arrow buffer over the pooled array (valid until <see cref="Return"/>).</summary>
    public ArrowBuffer ToArrowBuffer() => new(_array.AsMemory(0, Count * Size));

    /// <summary>Gives the array back to the pool; the buffer must not be used afterwards.</summary>
    public void Return()
    {
        var array = Interlocked.Exchange(ref _array, []);
        if (array.Length > 0) ArrayPool<byte>.Shared.Return(array);
    }

    private void Ensure(int count)
    {
        var bytes = count * Size;
        if (bytes <= _array.Length) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(bytes, _array.Length * 2));
        _array.AsSpan(0, Count * Size).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }
}

/// <summary>An Arrow validity (or boolean values) bitmap on an <see cref="ArrayPool{T}.Shared"/> array (one per column of a
/// row: kept to plain array indexing).</summary>
internal sealed class PooledBitmap(int capacity)
{
    private byte[] _array = ArrayPool<byte>.Shared.Rent(Math.Max(64, (capacity + 7) / 8));

    /// <summary>The bits appended.</summary>
    public int Length { get; private set; }

    /// <summary>Appends one bit.</summary>
    public void Append(bool value)
    {
        var index = Length >> 3;
        if (index == _array.Length) Grow();
        if ((Length & 7) == 0) _array[index] = 0; // a pooled array comes with old contents
        if (value) _array[index] |= (byte)(1 << (Length & 7));
        Length++;
    }

    /// <summary>Keeps the first <paramref name="bits"/> bits (the rest of the last byte cleared).</summary>
    public void Truncate(int bits)
    {
        if (bits >= Length) return;
        if ((bits & 7) != 0) _array[bits >> 3] &= (byte)((1 << (bits & 7)) - 1);
        Length = bits;
    }

    /// <summary>How many of the bits are 0 (a validity bitmap's null count).</summary>
    public int UnsetCount()
    {
        var set = 0;
        foreach (var b in _array.AsSpan(0, (Length + 7) / 8)) set += BitOperations.PopCount(b);
        return Length - set;
    }

    /// <inheritdoc cref="PooledBuffer{T}.ToArrowBuffer"/>
    public ArrowBuffer ToArrowBuffer() => new(_array.AsMemory(0, (Length + 7) / 8));

    /// <inheritdoc cref="PooledBuffer{T}.Return"/>
    public void Return()
    {
        var array = Interlocked.Exchange(ref _array, []);
        if (array.Length > 0) ArrayPool<byte>.Shared.Return(array);
    }

    private void Grow()
    {
        var bigger = ArrayPool<byte>.Shared.Rent(_array.Length * 2);
        _array.CopyTo(bigger, 0);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }
}
