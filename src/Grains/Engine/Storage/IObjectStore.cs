namespace TimeFusion.Storage;

/// <summary>
/// A flat object store holding Delta tables (data files and the <c>_delta_log</c>): local disk or Azure Blob.
/// Paths are relative, '/'-separated, and produced by our own code (see <see cref="StoragePathNames"/>);
/// implementations reject paths that escape the root. Every failure is an exception: no I/O error is ignored.
/// </summary>
public interface IObjectStore
{
    /// <summary>A human-readable location of the root, for messages and logs (no secrets).</summary>
    string Describe { get; }

    /// <summary>Reads a whole object. Throws <see cref="ObjectNotFoundException"/> if absent.</summary>
    Task<byte[]> ReadAllAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Opens an object for sequential reading. Throws <see cref="ObjectNotFoundException"/> if absent.</summary>
    Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes an object only if no object exists at that path (local: create-new; Azure: <c>If-None-Match: *</c>).
    /// Returns false, writing nothing, when the object already exists — the caller lost a race.
    /// </summary>
    Task<bool> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Writes (or replaces) an object atomically: readers see the old or the new content, never a part.</summary>
    Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Uploads a local file as an object (replacing any), atomically as <see cref="PutAsync"/>.</summary>
    Task UploadFileAsync(string path, string localFile, CancellationToken cancellationToken = default);

    /// <summary>
    /// Uploads a local file the caller no longer needs (a flush's or a spill's freshly written Parquet file), as
    /// <see cref="UploadFileAsync"/>; the local file is gone afterwards. A local store on the same file system moves
    /// it in instead of copying it (no second write of every byte).
    /// </summary>
    async Task AdoptFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        await UploadFileAsync(path, localFile, cancellationToken);
        File.Delete(localFile);
    }

    /// <summary>
    /// A local file path holding the object's bytes, for engines that read files (DuckDB <c>read_parquet</c>).
    /// Local stores return the file itself; remote stores download once into a cache (objects are immutable).
    /// </summary>
    Task<string> GetLocalPathAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Lists every object whose path starts with <paramref name="prefix"/>, recursively, in ordinal path order.</summary>
    Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists the temporary files under <paramref name="prefix"/> that an interrupted write left behind (a crash between
    /// writing a <c>.tmp-</c> file and renaming it into place), which <see cref="ListAsync"/> never shows. Stores whose
    /// writes are atomic by themselves (blob uploads) have none and return an empty list.
    /// </summary>
    Task<IReadOnlyList<ObjectInfo>> ListTemporaryAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Whether an object exists.</summary>
    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; deleting an absent object is not an error.</summary>
    Task DeleteAsync(string path, CancellationToken cancellationToken = default);
}

/// <summary>One listed object.</summary>
/// <param name="Path">Relative path from the store root.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="LastModified">Last modification time.</param>
public sealed record ObjectInfo(string Path, long Size, DateTimeOffset LastModified);

/// <summary>The object does not exist.</summary>
public sealed class ObjectNotFoundException(string path) : IOException($"object '{path}' does not exist")
{
    /// <summary>The missing path.</summary>
    public string Path { get; } = path;
}
