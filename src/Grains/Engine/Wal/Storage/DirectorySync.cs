using System.Runtime.InteropServices;

namespace TimeFusion.Wal;

/// <summary>
/// fsync of a directory, so that a created, renamed or deleted entry survives a crash (POSIX needs it;
/// .NET has no API for it). On Windows, NTFS journals metadata and this does nothing.
/// </summary>
internal static class DirectorySync
{
    private const int ORdOnly = 0;

    /// <summary>Flushes the directory entry table of <paramref name="path"/>; throws <see cref="IOException"/> on failure.</summary>
    public static void Flush(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(path, ORdOnly);
        if (fd < 0) throw Error("open", path);
        try
        {
            if (Fsync(fd) != 0) throw Error("fsync", path);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static IOException Error(string call, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call}('{path}') failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
