using System.Security.Cryptography;
using System.Text;
using Orleans.Serialization;
using Orleans.Storage;

namespace TimeFusion.Hosting;

/// <summary>
/// Orleans grain storage in local files, for single-node mode (the catalog): one file per (state, grain), written
/// to a temporary file, fsynced and renamed into place, so a crash leaves the old or the new state, never a part.
/// The ETag is a content hash, checked on write: a stale writer is refused, as with any Orleans storage.
/// </summary>
public sealed class LocalFileGrainStorage(string directory, Serializer serializer) : IGrainStorage
{
    private readonly string _directory = Directory.CreateDirectory(Path.GetFullPath(directory)).FullName;

    private string FileOf(string stateName, GrainId grainId) =>
        Path.Combine(_directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(stateName + "\n" + grainId)))[..40] + ".state");

    private static string ETagOf(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];

    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var file = FileOf(stateName, grainId);
        if (!File.Exists(file))
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        var bytes = await File.ReadAllBytesAsync(file);
        grainState.State = serializer.Deserialize<T>(bytes);
        grainState.ETag = ETagOf(bytes);
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var file = FileOf(stateName, grainId);
        await CheckETagAsync(file, grainState.ETag);
        var bytes = serializer.SerializeToArray(grainState.State);
        var temp = file + ".tmp-" + Guid.NewGuid().ToString("N");
        await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, useAsync: true))
        {
            await fs.WriteAsync(bytes);
            fs.Flush(flushToDisk: true);
        }
        File.Move(temp, file, overwrite: true);
        grainState.ETag = ETagOf(bytes);
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var file = FileOf(stateName, grainId);
        await CheckETagAsync(file, grainState.ETag);
        File.Delete(file);
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private static async Task CheckETagAsync(string file, string? expected)
    {
        var current = File.Exists(file) ? ETagOf(await File.ReadAllBytesAsync(file)) : null;
        if (current != expected)
            throw new InconsistentStateException($"state file '{file}' changed underneath (stored ETag {current ?? "none"}, expected {expected ?? "none"})",
                current ?? "", expected ?? "");
    }
}
