namespace TimeFusion.Storage;

/// <summary>
/// An <see cref="IObjectStore"/> on the local file system under one root folder.
/// Put-if-absent uses <see cref="FileMode.CreateNew"/> on a temporary file that is then hard-linked
/// into place, so a reader never sees a half-written object and a concurrent creator loses cleanly.
/// </summary>
public sealed class LocalObjectStore : IObjectStore
{
    private readonly string _root;

    /// <summary>Creates a store rooted at <paramref name="rootDirectory"/> (created if missing).</summary>
    public LocalObjectStore(string rootDirectory)
    {
        _root = Path.GetFullPath(rootDirectory);
        Directory.CreateDirectory(_root);
    }

    /// <inheritdoc />
    public string Describe => "file://" + _root;

    /// <summary>The full local path of an object, checked to stay under the root.</summary>
    public string FullPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.Contains('\\') || path.StartsWith('/') || path.Split('/').Any(s => s is "" or "." or ".."))
            throw new ArgumentException($"invalid object path '{path}'", nameof(path));
        var full = Path.GetFullPath(Path.Combine(_root, path));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"object path '{path}' escapes the store root", nameof(path));
        return full;
    }

    /// <inheritdoc />
    public async Task<byte[]> ReadAllAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(FullPath(path), cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(path);
        }
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            Stream s = new FileStream(FullPath(path), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, useAsync: true);
            return Task.FromResult(s);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(path);
        }
    }

    /// <inheritdoc />
    public async Task<bool> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var full = FullPath(path);
        if (File.Exists(full)) return false;
        var temp = await WriteTempAsync(full, content, cancellationToken);
        try
        {
            // A hard link fails if the target exists: the atomic "create if absent" of a complete file.
            return LocalFileSystem.TryLink(temp, full);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <inheritdoc />
    public async Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var full = FullPath(path);
        var temp = await WriteTempAsync(full, content, cancellationToken);
        File.Move(temp, full, overwrite: true);
    }

    /// <inheritdoc />
    public async Task UploadFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        var full = FullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            await using (var src = new FileStream(localFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true))
            await using (var dst = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
            {
                await src.CopyToAsync(dst, cancellationToken);
                dst.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task AdoptFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        var full = FullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            // Moved in under a temporary name (File.Move copies across file systems), made durable, then renamed into
            // place: visible under its name only once its bytes are on disk, as UploadFileAsync's copy is.
            File.Move(localFile, temp);
            await using (var file = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None))
                file.Flush(flushToDisk: true);
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <inheritdoc />
    public Task<string> GetLocalPathAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = FullPath(path);
        if (!File.Exists(full)) throw new ObjectNotFoundException(path);
        return Task.FromResult(full);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        Task.FromResult(List(prefix, temporary: false));

    /// <inheritdoc />
    public Task<IReadOnlyList<ObjectInfo>> ListTemporaryAsync(string prefix, CancellationToken cancellationToken = default) =>
        Task.FromResult(List(prefix, temporary: true));

    private IReadOnlyList<ObjectInfo> List(string prefix, bool temporary)
    {
        // Walk only the folder the prefix names, not the whole store.
        var slash = prefix.LastIndexOf('/');
        var folder = slash < 0 ? _root : FullPath(prefix[..slash]);
        var result = new List<ObjectInfo>();
        if (Directory.Exists(folder))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
                if (!rel.StartsWith(prefix, StringComparison.Ordinal) || IsTemp(rel) != temporary) continue;
                var info = new FileInfo(file);
                result.Add(new ObjectInfo(rel, info.Length, info.LastWriteTimeUtc));
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return result;
    }

    /// <inheritdoc />
    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) =>
        Task.FromResult(File.Exists(FullPath(path)));

    /// <inheritdoc />
    public Task DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        File.Delete(FullPath(path)); // absent is fine; any other failure throws
        return Task.CompletedTask;
    }

    private static async Task<string> WriteTempAsync(string full, ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            await using var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            await fs.WriteAsync(content, ct);
            fs.Flush(flushToDisk: true);
            return temp;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static bool IsTemp(string rel) => rel.Contains(".tmp-", StringComparison.Ordinal);

    private static void TryDelete(string path)
    {
        // Cleanup after a failure that is already being reported; a second error would hide the first.
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
