using Microsoft.Win32.SafeHandles;

namespace TimeFusion.Wal;

/// <summary>
/// Writes a local segment in <see cref="WalWriteMode.Direct"/>: every group is copied once into a pooled 4 KiB-aligned
/// buffer behind the segment's last partial block (kept here and rewritten with the next group), padded with zeros to
/// a whole block and written with one <c>pwrite</c> (O_DIRECT unless the file system refused it) over blocks that
/// <see cref="PrepareAsync"/> zero-filled ahead; <see cref="FlushAsync"/> is <c>fdatasync</c>. The bytes after
/// <see cref="Length"/> are always zeros, which recovery reads as the segment's clean end.
/// </summary>
internal sealed class DirectSegmentWriter : IWalSegmentWriter
{
    private const int Block = DirectFile.Block;
    /// <summary>Zero-fill chunks: at least this much (256 tables × 256 KiB is little), …</summary>
    private const long MinChunk = 256 << 10;
    /// <summary>… at most this much per step.</summary>
    private const long MaxChunk = 64 << 20;
    private static readonly AlignedBuffer Zeros = NewZeros();

    private readonly string _file;
    private readonly LocalWalDirectory _directory;
    private readonly WalOptions _options;
    private readonly long _limit;
    private readonly AlignedBuffer _tail = new(Block);
    private SafeFileHandle _handle;
    private int _tailCount;
    private long _allocated;

    private DirectSegmentWriter(string name, string file, LocalWalDirectory directory, WalOptions options, SafeFileHandle handle, bool direct,
        long length, ReadOnlySpan<byte> tail)
    {
        Name = name;
        _file = file;
        _directory = directory;
        _options = options;
        _handle = handle;
        IsDirect = direct;
        Length = length;
        _allocated = RandomAccess.GetLength(handle);
        // Segments roll before they pass SegmentSizeBytes (one larger entry aside): no zeros past it.
        _limit = AlignUp(options.SegmentSizeBytes);
        tail.CopyTo(_tail.Span);
        _tailCount = tail.Length;
    }

    /// <summary>
    /// Opens <paramref name="file"/> (existing, its entries ending at <paramref name="length"/>; the bytes after it zeros
    /// or beyond the end of the file) for writing at <paramref name="length"/>.
    /// </summary>
    public static DirectSegmentWriter Open(string name, string file, LocalWalDirectory directory, WalOptions options, long length)
    {
        Span<byte> tail = stackalloc byte[Block];
        var tailCount = (int)(length % Block);
        if (tailCount > 0)
        {
            using var read = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var got = RandomAccess.Read(read, tail[..tailCount], length - tailCount);
            if (got != tailCount) throw new IOException($"WAL segment '{file}': could not read its last partial block back ({got} of {tailCount} bytes)");
        }
        var (handle, direct) = OpenForWrite(file, options, directory);
        try
        {
            return new DirectSegmentWriter(name, file, directory, options, handle, direct, length, tail[..tailCount]);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>O_DIRECT when the platform and the file system allow it, else a buffered handle (the refusal logged once).</summary>
    internal static (SafeFileHandle Handle, bool Direct) OpenForWrite(string file, WalOptions options, LocalWalDirectory directory)
    {
        if (DirectFile.Supported && !options.RefuseDirectIo)
        {
            var handle = DirectFile.TryOpenDirect(file, out var errno);
            if (handle is not null) return (handle, true);
            if (errno != DirectFile.EINVAL) throw DirectFile.Error("open(O_DIRECT)", file, errno);
            directory.ReportDirectIoRefused(file, "open with O_DIRECT failed with EINVAL");
        }
        else if (options.RefuseDirectIo) directory.ReportDirectIoRefused(file, "refused by WalOptions.RefuseDirectIo (tests)");
        return (File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete), false);
    }

    public string Name { get; }

    public long Length { get; private set; }

    /// <summary>Whether writes bypass the page cache (false: the file system refused O_DIRECT).</summary>
    public bool IsDirect { get; private set; }

    /// <summary>The file's size: zero-filled blocks reach this far.</summary>
    internal long Allocated => _allocated;

    public bool CanAppend(long bytes) => true;

    public ValueTask AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long total = 0;
        for (var i = 0; i < buffers.Count; i++) total += buffers[i].Length;
        var start = Length - _tailCount;
        var span = _tailCount + total;
        var padded = AlignUp(span);
        var buffer = AlignedBufferPool.Rent(padded);
        try
        {
            var dest = buffer.Span;
            _tail.Span[.._tailCount].CopyTo(dest);
            var at = _tailCount;
            for (var i = 0; i < buffers.Count; i++)
            {
                buffers[i].Span.CopyTo(dest[at..]);
                at += buffers[i].Length;
            }
            dest[(int)span..(int)padded].Clear();
            Write(dest[..(int)padded], start);
            var tail = (int)(span % Block);
            dest.Slice((int)(span - tail), tail).CopyTo(_tail.Span);
            _tailCount = tail;
            Length += total;
            _allocated = Math.Max(_allocated, start + padded);
        }
        catch (Exception e)
        {
            return ValueTask.FromException(new IOException($"writing {total} bytes at {Length} of WAL segment '{_file}' failed: {e.Message}", e));
        }
        finally
        {
            AlignedBufferPool.Return(buffer);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        DirectFile.DataSync(_handle, _file);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// After a group was acknowledged: when fewer than two groups of <paramref name="expectedGroupBytes"/> fit the
    /// zero-filled room, adds a chunk of zeros (four such groups, within [256 KiB, 64 MiB], never past the segment size)
    /// and makes it durable with the file's size; when the segment is about to fill, has the next one prepared.
    /// </summary>
    public ValueTask PrepareAsync(long expectedGroupBytes, CancellationToken cancellationToken)
    {
        var expected = Math.Max(expectedGroupBytes, Block);
        var chunk = ChunkFor(expected);
        if (_allocated - Length < 2 * expected && _allocated < _limit)
        {
            var from = AlignUp(_allocated);
            var to = Math.Min(from + chunk, _limit);
            ZeroFill(_handle, _file, from, to);
            DirectFile.DataSync(_handle, _file);
            _allocated = to;
        }
        if (_limit - Length < 2 * expected) _directory.PrepareSpare(chunk, _options);
        return ValueTask.CompletedTask;
    }

    /// <summary>The zero-fill step for groups of <paramref name="expected"/> bytes.</summary>
    internal static long ChunkFor(long expected) => Math.Clamp(AlignUp(4 * expected), MinChunk, MaxChunk);

    /// <summary>Writes zeros over [<paramref name="from"/>, <paramref name="to"/>) (block-aligned), extending the file.</summary>
    internal static void ZeroFill(SafeFileHandle handle, string file, long from, long to)
    {
        for (var at = from; at < to;)
        {
            var n = (int)Math.Min(Zeros.Capacity, to - at);
            var errno = DirectFile.Supported ? DirectFile.WriteAll(handle, Zeros.Span[..n], at) : WriteManaged(handle, Zeros.Span[..n], at);
            if (errno != 0) throw DirectFile.Error("zero-filling", file, errno);
            at += n;
        }
    }

    private void Write(ReadOnlySpan<byte> data, long offset)
    {
        if (!DirectFile.Supported)
        {
            RandomAccess.Write(_handle, data, offset);
            return;
        }
        var errno = DirectFile.WriteAll(_handle, data, offset);
        if (errno == DirectFile.EINVAL && IsDirect)
        {
            // Opened, but the file system refuses the direct write itself: the same writes, buffered, from now on.
            _directory.ReportDirectIoRefused(_file, "a write with O_DIRECT failed with EINVAL");
            var buffered = File.OpenHandle(_file, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
            _handle.Dispose();
            _handle = buffered;
            IsDirect = false;
            errno = DirectFile.WriteAll(_handle, data, offset);
        }
        if (errno != 0) throw DirectFile.Error("pwrite", _file, errno);
    }

    private static int WriteManaged(SafeFileHandle handle, ReadOnlySpan<byte> data, long offset)
    {
        RandomAccess.Write(handle, data, offset);
        return 0;
    }

    private static long AlignUp(long n) => (n + Block - 1) / Block * Block;

    private static AlignedBuffer NewZeros()
    {
        var zeros = new AlignedBuffer(1 << 20);
        zeros.Span.Clear();
        return zeros;
    }

    /// <summary>
    /// Closes the segment and gives back its zeros: a closed segment ends with its last entry, as in
    /// <see cref="WalWriteMode.Append"/>, so reopening reads no zero tail. Best effort: when the cut fails (the disk that
    /// failed a write), recovery still reads the zeros, or an unacknowledged group's bytes, as the end.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        try
        {
            if (RandomAccess.GetLength(_handle) > Length)
            {
                RandomAccess.SetLength(_handle, Length);
                DirectFile.DataSync(_handle, _file);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        finally
        {
            _handle.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
