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
    /// <summary>A background zero-fill starts when the durable room holds fewer than this many recent groups, …</summary>
    private const int AheadGroups = 4;
    /// <summary>… and not before the segment's second group: a table writing one batch and no more gets no zeros.</summary>
    private const int GroupsBeforeZeroFill = 2;

    private SafeFileHandle _handle;
    private int _tailCount;
    // The file's size as far as the loop knows (its own writes and completed preparations): preparations start here.
    private long _allocated;
    // Zeros and the size durable up to here, by the loop's own fdatasync (after writing past the room) …
    private long _durable;
    // … or by a completed background zero-fill (written by it, read by the loop).
    private long _preparedDurable;
    // How far the last background zero-fill wrote zeros (durable or not); read by the loop once it completed.
    private long _preparedTo;
    private long _written;
    private int _groups;
    private Task _preparing = Task.CompletedTask;
    private CancellationTokenSource? _stopPreparing;

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
        // A renamed spare or a reopened segment: its size and zeros were made durable before it got here.
        _allocated = _durable = RandomAccess.GetLength(handle);
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

    /// <summary>The file's size as the loop knows it: zero-filled blocks reach this far.</summary>
    internal long Allocated => _allocated;

    /// <summary>Zeros and the file's size are durable up to here: a group ending below it is written without waiting.</summary>
    internal long Durable => Math.Max(_durable, Volatile.Read(ref _preparedDurable));

    /// <summary>Waits until no preparation of this segment (zero-fill, spare) runs (tests; read when the loop is idle).</summary>
    internal async Task WhenPreparedAsync()
    {
        await _preparing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _directory.Spare.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public bool CanAppend(long bytes) => true;

    public ValueTask AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long total = 0;
        for (var i = 0; i < buffers.Count; i++) total += buffers[i].Length;
        // Past the durable room a running zero-fill may be writing where the group goes: it is stopped first (at its
        // next 1 MiB step), and the group writes past the room, its fdatasync carrying the new size.
        if (Length - _tailCount + AlignUp(_tailCount + total) > Durable && !_preparing.IsCompleted) return AppendAfterStoppingAsync(buffers, total);
        return Append(buffers, total);
    }

    private async ValueTask AppendAfterStoppingAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, long total)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await StopPreparingAsync();
        }
        catch (Exception e)
        {
            throw new IOException($"preparing WAL segment '{_file}' ahead failed: {e.Message}", e);
        }
        WalMetrics.PrepareWait.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        await Append(buffers, total);
    }

    private ValueTask Append(IReadOnlyList<ReadOnlyMemory<byte>> buffers, long total)
    {
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
            _written = start + padded;
            _allocated = Math.Max(_allocated, _written);
            _groups++;
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
        // What the loop wrote past the room is sized and durable now. A running zero-fill writes only above it.
        _durable = Math.Max(_durable, _written);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// After a group was acknowledged: when fewer than <see cref="AheadGroups"/> groups of <paramref name="expectedGroupBytes"/>
    /// fit the durable zero-filled room (from the segment's second group on), starts a background zero-fill of the next
    /// chunk (four such groups, within [256 KiB, 64 MiB], no more than the segment already holds, never past the segment
    /// size) made durable with the file's size by its own <c>fdatasync</c>; when the segment is within that many groups of
    /// its size, has the next one prepared (<see cref="LocalWalDirectory.StartSpare"/>). Returns at once: the loop
    /// writes the next groups meanwhile, below the durable room. A failed preparation is thrown here (the log faults).
    /// </summary>
    public ValueTask PrepareAsync(long expectedGroupBytes, CancellationToken cancellationToken)
    {
        if (_options.PrepareInline) return PrepareInlineAsync(expectedGroupBytes);
        var expected = Math.Max(expectedGroupBytes, Block);
        var chunk = ChunkFor(expected);
        if (_limit - Length < AheadGroups * expected) _directory.StartSpare(this, chunk, _options);
        if (!_preparing.IsCompleted) return ValueTask.CompletedTask;
        TakePrepared();
        if (_groups < GroupsBeforeZeroFill || Durable - Length >= AheadGroups * expected || _allocated >= _limit) return ValueTask.CompletedTask;
        var from = AlignUp(_allocated);
        // A new table's segment grows with what it holds (its first groups' size says little about the next ones).
        var to = Math.Min(from + Math.Min(chunk, Math.Max(MinChunk, AlignUp(Length))), _limit);
        if (to <= from) return ValueTask.CompletedTask;
        StartZeroFill(from, to);
        return ValueTask.CompletedTask;
    }

    private void StartZeroFill(long from, long to)
    {
        var stop = _stopPreparing = new CancellationTokenSource();
        var direct = IsDirect;
        _preparing = WalPreparer.RunAsync(token => ZeroFillAhead(from, to, direct, token), _options.PrepareHook, stop.Token);
    }

    /// <summary>Session 15's preparation (<see cref="WalOptions.PrepareInline"/>): the loop waits for the zero-fill and the spare.</summary>
    private async ValueTask PrepareInlineAsync(long expectedGroupBytes)
    {
        var expected = Math.Max(expectedGroupBytes, Block);
        var chunk = ChunkFor(expected);
        if (Durable - Length < 2 * expected && _allocated < _limit)
        {
            StartZeroFill(AlignUp(_allocated), Math.Min(AlignUp(_allocated) + chunk, _limit));
            await StopWhenDoneAsync();
        }
        if (_limit - Length < 2 * expected)
        {
            _directory.StartSpare(this, chunk, _options);
            await WalPreparer.JoinAsync(_directory.Spare);
        }
    }

    private async ValueTask StopWhenDoneAsync()
    {
        await WalPreparer.JoinAsync(_preparing);
        TakePrepared();
    }

    /// <summary>The background zero-fill of [<paramref name="from"/>, <paramref name="to"/>), on its own descriptor.</summary>
    private void ZeroFillAhead(long from, long to, bool direct, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var handle = direct ? DirectFile.TryOpenDirect(_file, out _) ?? OpenBuffered(_file) : OpenBuffered(_file);
        // _preparedTo follows the zeros even when stopped midway: the next preparation starts after them.
        ZeroFill(handle, _file, from, to, ref _preparedTo, cancellationToken);
        DirectFile.DataSync(handle, _file);
        Volatile.Write(ref _preparedDurable, to);
        WalMetrics.PrepareDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>Stops the running zero-fill (at its next step) and waits for it; rethrows its failure.</summary>
    private async ValueTask StopPreparingAsync()
    {
        _stopPreparing?.Cancel();
        await WalPreparer.JoinAsync(_preparing);
        TakePrepared();
    }

    /// <summary>The loop takes a completed preparation's result: the size it reached, or its failure.</summary>
    private void TakePrepared()
    {
        if (_stopPreparing is null) return;
        _stopPreparing.Dispose();
        _stopPreparing = null;
        _allocated = Math.Max(_allocated, Volatile.Read(ref _preparedTo));
        WalPreparer.ThrowIfFaulted(_preparing);
    }

    private static SafeFileHandle OpenBuffered(string file) => File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

    /// <summary>The zero-fill step for groups of <paramref name="expected"/> bytes.</summary>
    internal static long ChunkFor(long expected) => Math.Clamp(AlignUp(4 * expected), MinChunk, MaxChunk);

    /// <summary>
    /// Writes zeros over [<paramref name="from"/>, <paramref name="to"/>) (block-aligned), extending the file, 1 MiB at a
    /// time; <paramref name="reached"/> follows the end of the zeros written. Stops between steps when cancelled.
    /// </summary>
    internal static void ZeroFill(SafeFileHandle handle, string file, long from, long to, ref long reached, CancellationToken cancellationToken)
    {
        for (var at = from; at < to;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = (int)Math.Min(Zeros.Capacity, to - at);
            var errno = DirectFile.Supported ? DirectFile.WriteAll(handle, Zeros.Span[..n], at) : WriteManaged(handle, Zeros.Span[..n], at);
            if (errno != 0) throw DirectFile.Error("zero-filling", file, errno);
            at += n;
            reached = at;
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
    public async ValueTask DisposeAsync()
    {
        // Disposing the log stops and waits for its preparations; their failure no longer matters (nothing more is written).
        _stopPreparing?.Cancel();
        await _preparing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopPreparing?.Dispose();
        _stopPreparing = null;
        await _directory.StopSpareAsync(this);
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
    }
}
