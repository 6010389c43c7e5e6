using System.Runtime.InteropServices;

namespace TimeFusion.Storage;

/// <summary>File-system operations .NET does not expose: an atomic create-if-absent of a whole file.</summary>
internal static partial class LocalFileSystem
{
    private const int EEXIST = 17;

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string oldPath, string newPath);

    /// <summary>
    /// Hard-links <paramref name="source"/> to <paramref name="target"/>; false if the target exists.
    /// Any other failure throws. On Windows falls back to a non-overwriting move (also atomic there).
    /// </summary>
    public static bool TryLink(string source, string target)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Copy(source, target, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(target))
            {
                return false;
            }
        }
        if (Link(source, target) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST) return false;
        throw new IOException($"link('{source}', '{target}') failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }
}
