using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TimeFusion.Wal;

/// <summary>
/// The Linux calls <see cref="WalWriteMode.Direct"/> needs and .NET does not expose: <c>open(O_DIRECT)</c> (the runtime's
/// <c>SystemNative_Open</c> maps only CLOEXEC, CREAT, EXCL, TRUNC and SYNC; no <see cref="FileOptions"/> value reaches
/// O_DIRECT), <c>pwrite</c> with its errno (to tell a refused O_DIRECT write from other failures) and <c>fdatasync</c>.
/// </summary>
internal static partial class DirectFile
{
    /// <summary>The alignment of O_DIRECT buffers, lengths and offsets: the page size, a multiple of every logical block size.</summary>
    public const int Block = 4096;

    public const int EINVAL = 22;
    private const int EINTR = 4;
    private const int ORdWr = 2;
    private const int OCloexec = 0x80000;

    /// <summary>O_DIRECT differs by architecture (asm-generic 0x4000; arm and arm64 0x10000).</summary>
    private static int ODirect => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;

    /// <summary>Whether this platform has the calls at all (Linux); elsewhere Direct mode writes buffered.</summary>
    public static bool Supported => OperatingSystem.IsLinux();

    /// <summary>Opens an existing file read-write with O_DIRECT; null with the errno when the open fails (EINVAL: the file system refuses it).</summary>
    public static SafeFileHandle? TryOpenDirect(string path, out int errno)
    {
        var fd = Open(path, ORdWr | OCloexec | ODirect);
        if (fd >= 0)
        {
            errno = 0;
            return new SafeFileHandle(fd, ownsHandle: true);
        }
        errno = Marshal.GetLastPInvokeError();
        return null;
    }

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>; returns 0 or the errno of the failed call.</summary>
    public static int WriteAll(SafeFileHandle handle, ReadOnlySpan<byte> data, long offset)
    {
        while (!data.IsEmpty)
        {
            var n = PWrite(handle, data, data.Length, offset);
            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                return errno;
            }
            // A short O_DIRECT write ends on a block boundary (the kernel writes whole blocks), so the rest stays aligned.
            data = data[(int)n..];
            offset += n;
        }
        return 0;
    }

    /// <summary>fdatasync: the data and the metadata needed to read it back (the size when it changed), not the times.</summary>
    public static void DataSync(SafeFileHandle handle, string path)
    {
        if (!Supported)
        {
            RandomAccess.FlushToDisk(handle);
            return;
        }
        if (FDataSync(handle) != 0) throw Error("fdatasync", path, Marshal.GetLastPInvokeError());
    }

    public static IOException Error(string call, string path, int errno) =>
        new($"{call} of WAL segment '{path}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    // The handle is marshalled as the descriptor, pointer-sized in a register whose low 32 bits the C int reads (as the
    // runtime's own System.Native calls pass file descriptors); the marshaller keeps it alive across the call.
    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static partial nint PWrite(SafeFileHandle fd, ReadOnlySpan<byte> buffer, nint count, long offset);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FDataSync(SafeFileHandle fd);
}
