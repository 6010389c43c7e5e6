using System.Runtime.InteropServices;
using System.Text;

namespace TimeFusion.DuckDb;

/// <summary>
/// DuckDB's bundled allocator (jemalloc, symbols prefixed <c>duckdb_je_</c>; Linux x64 builds). By default it
/// <em>retains</em> the address space it reached (<c>opt.retain</c>): freed pages leave the resident set but stay mapped,
/// so under a data-segment cap (<see cref="ProcessMemoryLimit"/>) one statement that reached the cap left the process at
/// it and every later allocation — other statements, the catalog, the managed heap — failed until a restart. With
/// <c>retain:false</c> jemalloc unmaps what it purges, and <see cref="Purge"/> after a failed statement gives the whole
/// address space back at once. jemalloc reads its options once, when <c>libduckdb</c> is loaded (a library
/// constructor), from the environment variable <c>DUCKDB_JE_MALLOC_CONF</c>: <see cref="ConfigureBeforeLoad"/> must run
/// before the first DuckDB call of the process.
/// </summary>
public static partial class DuckDbAllocator
{
    /// <summary>The environment variable DuckDB's jemalloc reads its options from (prefix <c>DUCKDB_JE_</c>).</summary>
    public const string ConfigVariable = "DUCKDB_JE_MALLOC_CONF";

    /// <summary>What <see cref="ConfigureBeforeLoad"/> puts first in <see cref="ConfigVariable"/>.</summary>
    public const string ReleaseAddressSpace = "retain:false";

    // MALLCTL_ARENAS_ALL: "arena.<i>.purge" with this index purges every arena.
    private const string PurgeAllArenas = "arena.4096.purge";

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

    [LibraryImport("duckdb", EntryPoint = "duckdb_je_mallctl", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int MallCtl(string name, void* oldValue, nuint* oldLength, void* newValue, nuint newLength);

    /// <summary>
    /// Puts <see cref="ReleaseAddressSpace"/> first in the process's (native) <see cref="ConfigVariable"/>, keeping what
    /// an operator set there after it (later options win, so an explicit <c>retain:true</c> stays). Call before anything
    /// loads DuckDB; later it has no effect (<see cref="RetainsAddressSpace"/> tells). .NET's
    /// <c>Environment.SetEnvironmentVariable</c> does not reach the C library's environment, hence <c>setenv</c>.
    /// Returns false where there is nothing to configure (not Linux).
    /// </summary>
    public static bool ConfigureBeforeLoad()
    {
        if (!OperatingSystem.IsLinux()) return false;
        var current = Marshal.PtrToStringUTF8(GetEnv(ConfigVariable));
        if (current is not null && current.StartsWith(ReleaseAddressSpace, StringComparison.Ordinal)) return true;
        var value = string.IsNullOrEmpty(current) ? ReleaseAddressSpace : ReleaseAddressSpace + "," + current;
        return SetEnv(ConfigVariable, value, 1) == 0;
    }

    /// <summary>
    /// Whether DuckDB's allocator keeps the address space it reached (<c>opt.retain</c>); null where DuckDB has no
    /// jemalloc (other platforms).
    /// </summary>
    public static unsafe bool? RetainsAddressSpace()
    {
        byte retain = 0;
        nuint length = sizeof(byte);
        try
        {
            return MallCtl("opt.retain", &retain, &length, null, 0) == 0 ? retain != 0 : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null; // a DuckDB build without jemalloc (macOS, Windows, Linux arm64)
        }
    }

    /// <summary>
    /// Returns every arena's unused pages to the system now instead of after jemalloc's decay (seconds): unmapped with
    /// <c>retain:false</c>. For after a statement that failed for memory. False where DuckDB has no jemalloc.
    /// </summary>
    public static unsafe bool Purge()
    {
        try
        {
            return MallCtl("thread.tcache.flush", null, null, null, 0) == 0 & MallCtl(PurgeAllArenas, null, null, null, 0) == 0;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The allocator's options as an operator reads them in a log line.</summary>
    public static string Describe()
    {
        var text = new StringBuilder();
        text.Append(ConfigVariable).Append('=').Append(OperatingSystem.IsLinux() ? Marshal.PtrToStringUTF8(GetEnv(ConfigVariable)) ?? "" : "");
        text.Append(", retain=").Append(RetainsAddressSpace()?.ToString() ?? "n/a");
        return text.ToString();
    }
}
