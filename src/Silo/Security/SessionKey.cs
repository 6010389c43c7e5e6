using System.Security.Cryptography;

namespace TimeFusion.Silo.Security;

/// <summary>Where the SDK session signing key comes from: configuration, or a random key kept in the data directory.</summary>
internal static class SessionKey
{
    /// <summary>The file under the data directory holding the generated key (single-node mode).</summary>
    public const string FileName = "sdk-session.key";

    /// <summary>The configured key, else the data directory's (created on first use, readable by the owner only).</summary>
    public static byte[] Resolve(SdkSessionOptions options, string dataDirectory)
    {
        if (options.SecretBytes() is { } configured) return configured;
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path)) return File.ReadAllBytes(path);
        var key = RandomNumberGenerator.GetBytes(SdkSessionOptions.MinSecretBytes);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, fileOptions)) stream.Write(key);
        try
        {
            // Two silos starting on one data directory at once: the first key written wins, both use it.
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
        }
        return File.ReadAllBytes(path);
    }
}
