using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;

namespace TimeFusion.Silo.Protocol.Postgres.Copy;

/// <summary>
/// A growable buffer of fixed-width values over a managed byte array, finished into an <see cref="ArrowBuffer"/> without a
/// copy. Appending a value is a bounds check and a store: Arrow's <c>ArrowBuffer.Builder&lt;T&gt;</c> costs a call, a
/// capacity read and a growth check per value, calls that a ReadyToRun build cannot inline across assemblies (~5 % of
/// a CSV COPY's silo CPU, docs/BENCHMARKS.md session 12). Arrays are taken uninitialized: every byte built is written.
/// </summary>
internal sealed class CopyValueBuffer<T>
    where T : unmanaged
{
    private byte[] _bytes;
    private int _byteLength;

    /// <summary>A buffer with room for <paramref name="capacity"/> values.</summary>
    public CopyValueBuffer(int capacity) => _bytes = Allocate(capacity);

    /// <summary>Values appended since the last <see cref="Build"/>.</summary>
    public int Length => _byteLength / Unsafe.SizeOf<T>();

    /// <summary>Appends one value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(T value)
    {
        var at = _byteLength;
        if ((uint)(at + Unsafe.SizeOf<T>()) > (uint)_bytes.Length)
        {
            Grow(Unsafe.SizeOf<T>());
        }
        MemoryMarshal.Write(_bytes.AsSpan(at), in value);
        _byteLength = at + Unsafe.SizeOf<T>();
    }

    /// <summary>Appends values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(ReadOnlySpan<T> values)
    {
        var bytes = MemoryMarshal.AsBytes(values);
        if (bytes.Length > _bytes.Length - _byteLength)
        {
            Grow(bytes.Length);
        }
        bytes.CopyTo(_bytes.AsSpan(_byteLength));
        _byteLength += bytes.Length;
    }

    /// <summary>
    /// The values appended, as an Arrow buffer over this buffer's array; the buffer then starts over on a fresh array of
    /// the same capacity (the next batch is likely the same size: one allocation instead of a chain of doublings).
    /// </summary>
    public ArrowBuffer Build()
    {
        var built = new ArrowBuffer(new ReadOnlyMemory<byte>(_bytes, 0, _byteLength));
        _bytes = Allocate(Math.Max(8, _byteLength / Unsafe.SizeOf<T>()));
        _byteLength = 0;
        return built;
    }

    private static byte[] Allocate(int values) =>
        GC.AllocateUninitializedArray<byte>(checked(Math.Max(8, values) * Unsafe.SizeOf<T>()));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int more)
    {
        var needed = (long)_byteLength + more;
        if (needed > System.Array.MaxLength)
        {
            throw new PostgresErrorException(TimeFusion.Wire.SqlState.ProgramLimitExceeded, "COPY batch too large");
        }
        var bigger = GC.AllocateUninitializedArray<byte>((int)Math.Min(System.Array.MaxLength, Math.Max(needed, 2L * _bytes.Length)));
        _bytes.AsSpan(0, _byteLength).CopyTo(bigger);
        _bytes = bigger;
    }
}
