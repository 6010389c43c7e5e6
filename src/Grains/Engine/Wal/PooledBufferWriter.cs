using System.Buffers;

namespace TimeFusion.Wal;

/// <summary>A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/>; written bytes stay patchable.</summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _count;

    public PooledBufferWriter(int initialCapacity = 4096) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));

    public int WrittenCount => _count;

    public Span<byte> WrittenSpan => _buffer.AsSpan(0, _count);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _count);

    public void Reset() => _count = 0;

    /// <summary>Forgets everything written after the first <paramref name="count"/> bytes (to re-encode a frame).</summary>
    public void Rewind(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _count);
        _count = count;
    }

    public void Advance(int count)
    {
        if (count < 0 || _count + count > _buffer.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _count += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_count);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_count));
        _count += bytes.Length;
    }

    private void Ensure(int sizeHint)
    {
        var need = Math.Max(sizeHint, 1);
        if (_buffer.Length - _count >= need) return;
        var size = (int)Math.Min(Array.MaxLength, Math.Max((long)_buffer.Length * 2, (long)_count + need));
        if (size - _count < need) throw new OutOfMemoryException("buffer would exceed the largest array");
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _count).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _count = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}

/// <summary>
/// A write-only <see cref="Stream"/> over a <see cref="PooledBufferWriter"/> (for the Arrow IPC writer). With a
/// <c>skipPrefix</c>, the first bytes written are compared with it and dropped instead of stored: the WAL writes a
/// batch without the schema message it already holds, and <see cref="PrefixMatched"/> says whether the writer really
/// produced that schema message (if not, the caller must not drop it).
/// </summary>
internal sealed class PooledBufferStream(PooledBufferWriter buffer, ReadOnlyMemory<byte> skipPrefix = default) : Stream
{
    private int _skipped;
    private bool _mismatch;

    /// <summary>Whether every byte of the skip prefix was written, and equal to it.</summary>
    public bool PrefixMatched => !_mismatch && _skipped == skipPrefix.Length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => buffer.WrittenCount;

    public override long Position
    {
        get => buffer.WrittenCount;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] bytes, int offset, int count) => Put(bytes.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> bytes) => Put(bytes);

    public override void WriteByte(byte value) => Put([value]);

    public override Task WriteAsync(byte[] bytes, int offset, int count, CancellationToken cancellationToken)
    {
        Put(bytes.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        Put(bytes.Span);
        return ValueTask.CompletedTask;
    }

    private void Put(ReadOnlySpan<byte> bytes)
    {
        if (_skipped < skipPrefix.Length && !_mismatch)
        {
            var n = Math.Min(skipPrefix.Length - _skipped, bytes.Length);
            if (!bytes[..n].SequenceEqual(skipPrefix.Span.Slice(_skipped, n))) _mismatch = true;
            _skipped += n;
            bytes = bytes[n..];
        }
        buffer.Write(bytes);
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] bytes, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
