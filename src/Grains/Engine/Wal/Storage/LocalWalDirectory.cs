using Microsoft.Win32.SafeHandles;

namespace TimeFusion.Wal;

/// <summary>One log's folder on local disk. Creations are made durable with a directory fsync.</summary>
internal sealed class LocalWalDirectory(LocalWalStorage storage, string root, string path) : IWalDirectory
{
    /// <summary>
    /// The next segment of <see cref="WalWriteMode.Direct"/>, zero-filled ahead (<see cref="PrepareSpare"/>) and renamed
    /// into place when the log rolls. Not a segment name: recovery never reads it. Only ever holds zeros (a new file
    /// written with zeros; a crash midway leaves fewer zeros or a hole, which reads as zeros).
    /// </summary>
    internal const string SpareName = "next-segment.spare";

    // The spare's background preparation (WalPreparer), the segment writer that started it and how to stop it.
    private Task _spare = Task.CompletedTask;
    private object? _spareOwner;
    private CancellationTokenSource? _stopSpare;

    /// <summary>The spare's preparation, completed when none runs (tests).</summary>
    internal Task Spare => _spare;

    public string Describe => path;

    public Task<IReadOnlyList<WalFileInfo>> ListAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!Directory.Exists(path)) return Task.FromResult<IReadOnlyList<WalFileInfo>>([]);
        var files = new DirectoryInfo(path).GetFiles()
            .Select(f => new WalFileInfo(f.Name, f.Length))
            .ToList();
        return Task.FromResult<IReadOnlyList<WalFileInfo>>(files);
    }

    public async Task<byte[]?> ReadSmallFileAsync(string name, int maxBytes, CancellationToken cancellationToken)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(FilePath(name), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        await using (stream)
        {
            if (stream.Length > maxBytes)
                throw new IOException($"'{FilePath(name)}' is {stream.Length} bytes, more than the {maxBytes} allowed");
            var bytes = new byte[stream.Length];
            await stream.ReadExactlyAsync(bytes, cancellationToken);
            return bytes;
        }
    }

    public async Task<bool> CreateFileAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        EnsureDirectory();
        var final = FilePath(name);
        var temp = FilePath($"{name}.tmp-{Guid.NewGuid():N}");
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await RandomAccess.WriteAsync(handle, content, 0, cancellationToken);
                RandomAccess.FlushToDisk(handle);
            }
            try
            {
                // Without overwrite this fails when the target exists: put-if-absent.
                File.Move(temp, final, overwrite: false);
            }
            catch (IOException) when (File.Exists(final))
            {
                return false;
            }
            DirectorySync.Flush(path);
            return true;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public Task<IWalSegmentReader> OpenReadAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var handle = File.OpenHandle(FilePath(name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return Task.FromResult<IWalSegmentReader>(new LocalSegmentReader(handle, FilePath(name)));
    }

    public async Task<IWalSegmentWriter> CreateSegmentAsync(string name, WalOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        EnsureDirectory();
        var file = FilePath(name);
        if (options.WriteMode == WalWriteMode.Direct)
        {
            // A spare still being written is waited for: renamed half-done, its zeros and size would not be durable yet
            // and its writer would still be writing where the new segment's first groups go. Its failure fails the roll.
            try
            {
                await WalPreparer.JoinAsync(_spare);
            }
            catch (Exception e)
            {
                throw new IOException($"preparing the next WAL segment in '{path}' failed: {e.Message}", e);
            }
            ForgetSpare();
            var spare = FilePath(SpareName);
            if (File.Exists(spare))
            {
                try
                {
                    File.Move(spare, file, overwrite: false);
                }
                catch (IOException e) when (File.Exists(file))
                {
                    throw new WalConflictException($"WAL segment '{file}' already exists: another writer?", e);
                }
            }
            else
            {
                File.OpenHandle(file, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete).Dispose();
            }
            DirectorySync.Flush(path);
            return DirectSegmentWriter.Open(name, file, this, options, 0);
        }
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(file, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        }
        catch (IOException e) when (File.Exists(file))
        {
            throw new WalConflictException($"WAL segment '{file}' already exists: another writer?", e);
        }
        try
        {
            DirectorySync.Flush(path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return new LocalSegmentWriter(name, file, handle, 0);
    }

    public Task<IWalSegmentWriter?> OpenAppendAsync(string name, long validLength, WalOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var file = FilePath(name);
        var handle = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        try
        {
            var length = RandomAccess.GetLength(handle);
            if (length < validLength)
                throw new IOException($"WAL segment '{file}' is {length} bytes, shorter than the {validLength} recovered from it");
            if (length > validLength)
            {
                // Cut the torn tail (or a preallocated zero tail) so new appends follow the last good entry and no byte
                // of an interrupted write is left behind it for a later recovery to read.
                RandomAccess.SetLength(handle, validLength);
                RandomAccess.FlushToDisk(handle);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        if (options.WriteMode == WalWriteMode.Direct)
        {
            handle.Dispose();
            return Task.FromResult<IWalSegmentWriter?>(DirectSegmentWriter.Open(name, file, this, options, validLength));
        }
        return Task.FromResult<IWalSegmentWriter?>(new LocalSegmentWriter(name, file, handle, validLength));
    }

    /// <summary>
    /// Has <see cref="SpareName"/> zero-filled (<paramref name="bytes"/>, rounded to blocks) and made durable in the
    /// background (<see cref="WalPreparer"/>), unless it exists or is being written: the next
    /// <see cref="CreateSegmentAsync"/> renames it instead of creating an empty file, so the first groups of a new segment
    /// overwrite existing blocks too. Called by the active segment's writer (<paramref name="owner"/>) on the writer
    /// loop; a failed earlier preparation is thrown here (the log faults).
    /// </summary>
    internal void StartSpare(object owner, long bytes, WalOptions options)
    {
        if (!_spare.IsCompleted) return;
        if (_spare.IsFaulted) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_spare.Exception!.InnerException!);
        ForgetSpare();
        var spare = FilePath(SpareName);
        if (File.Exists(spare)) return;
        var stop = _stopSpare = new CancellationTokenSource();
        _spareOwner = owner;
        _spare = WalPreparer.RunAsync(token => PrepareSpare(spare, bytes, options, token), options.PrepareHook, stop.Token);
    }

    /// <summary>
    /// Stops the spare's preparation if <paramref name="owner"/> started it (the log is closing) and waits for it;
    /// a spare stopped midway is deleted. Its failure no longer matters.
    /// </summary>
    internal async ValueTask StopSpareAsync(object owner)
    {
        if (!ReferenceEquals(_spareOwner, owner)) return;
        _stopSpare?.Cancel();
        await _spare.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        ForgetSpare();
    }

    private void ForgetSpare()
    {
        _stopSpare?.Dispose();
        _stopSpare = null;
        _spareOwner = null;
    }

    private void PrepareSpare(string spare, long bytes, WalOptions options, CancellationToken cancellationToken)
    {
        File.OpenHandle(spare, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete).Dispose();
        try
        {
            var (handle, _) = DirectSegmentWriter.OpenForWrite(spare, options, this);
            using (handle)
            {
                long reached = 0;
                DirectSegmentWriter.ZeroFill(handle, spare, 0, (bytes + DirectFile.Block - 1) / DirectFile.Block * DirectFile.Block, ref reached, cancellationToken);
                DirectFile.DataSync(handle, spare);
            }
        }
        catch
        {
            // Stopped or failed midway: not renamed in half-written by this process (a crash midway leaves fewer zeros or
            // a hole, which is still a spare of zeros).
            File.Delete(spare);
            throw;
        }
    }

    /// <summary>The file system refused O_DIRECT: logged once per storage root.</summary>
    internal void ReportDirectIoRefused(string file, string reason) => storage.ReportDirectIoRefused(file, reason);

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        File.Delete(FilePath(name));
        return Task.CompletedTask;
    }

    private string FilePath(string name)
    {
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name == "." || name == "..")
            throw new ArgumentException($"unsafe WAL file name '{name}'", nameof(name));
        return Path.Combine(path, name);
    }

    private void EnsureDirectory()
    {
        if (Directory.Exists(path)) return;
        Directory.CreateDirectory(path);
        // Make every new level durable: fsync each created folder's parent, up to the root.
        for (var dir = path; dir.Length > root.Length; dir = Path.GetDirectoryName(dir)!)
        {
            DirectorySync.Flush(Path.GetDirectoryName(dir)!);
        }
    }
}
