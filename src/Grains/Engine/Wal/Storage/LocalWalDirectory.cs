using Microsoft.Win32.SafeHandles;

namespace TimeFusion.Wal;

/// <summary>One log's folder on local disk. Creations are made durable with a directory fsync.</summary>
internal sealed class LocalWalDirectory(string root, string path) : IWalDirectory
{
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

    public Task<IWalSegmentWriter> CreateSegmentAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        EnsureDirectory();
        var file = FilePath(name);
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
        return Task.FromResult<IWalSegmentWriter>(new LocalSegmentWriter(name, file, handle, 0));
    }

    public Task<IWalSegmentWriter?> OpenAppendAsync(string name, long validLength, CancellationToken cancellationToken)
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
                // Cut the torn tail so new appends follow the last good entry.
                RandomAccess.SetLength(handle, validLength);
                RandomAccess.FlushToDisk(handle);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return Task.FromResult<IWalSegmentWriter?>(new LocalSegmentWriter(name, file, handle, validLength));
    }

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
