using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace TimeFusion.Storage;

/// <summary>
/// A local disk cache of immutable remote objects (Delta data files and checkpoints), so DuckDB reads
/// Parquet from local files. Entries are keyed by the full remote location; a download goes to a temporary
/// file and is renamed into place only when complete, and concurrent requests for one key share one download.
/// </summary>
public sealed class LocalFileCache
{
    private readonly string _directory;
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _inflight = new();

    /// <summary>Creates a cache in <paramref name="directory"/> (created if missing).</summary>
    public LocalFileCache(string directory)
    {
        _directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(_directory);
    }

    /// <summary>
    /// Returns the cached file for <paramref name="key"/>, downloading it with <paramref name="download"/>
    /// (which writes the given temporary path) when absent.
    /// </summary>
    public async Task<string> GetOrAddAsync(string key, Func<string, CancellationToken, Task> download, CancellationToken cancellationToken)
    {
        var file = Path.Combine(_directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));
        if (File.Exists(file)) return file;
        var lazy = _inflight.GetOrAdd(file, f => new Lazy<Task<string>>(() => DownloadAsync(f, download, cancellationToken)));
        try
        {
            return await lazy.Value;
        }
        finally
        {
            _inflight.TryRemove(new KeyValuePair<string, Lazy<Task<string>>>(file, lazy));
        }
    }

    private static async Task<string> DownloadAsync(string file, Func<string, CancellationToken, Task> download, CancellationToken ct)
    {
        var temp = file + ".part-" + Guid.NewGuid().ToString("N");
        try
        {
            await download(temp, ct);
            File.Move(temp, file, overwrite: true);
            return file;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
