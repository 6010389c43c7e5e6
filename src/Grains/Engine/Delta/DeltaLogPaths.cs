using System.Globalization;
using System.Text;

namespace TimeFusion.Delta;

/// <summary>The kinds of file found directly inside <c>_delta_log/</c>.</summary>
public enum DeltaLogFileKind
{
    /// <summary><c>{version:D20}.json</c>: a commit.</summary>
    Commit,
    /// <summary><c>{version:D20}.checkpoint.parquet</c>: a classic single-file checkpoint.</summary>
    Checkpoint,
    /// <summary><c>{version:D20}.checkpoint.{part:D10}.{parts:D10}.parquet</c>: one part of a multi-part checkpoint.</summary>
    MultiPartCheckpoint,
    /// <summary><c>{version:D20}.checkpoint.{uuid}.json|parquet</c>: a UUID-named (v2 spec) checkpoint.</summary>
    UuidCheckpoint,
}

/// <summary>A recognised file directly inside <c>_delta_log/</c>.</summary>
/// <param name="Path">Object path (from the store root).</param>
/// <param name="Kind">What it is.</param>
/// <param name="Version">The table version it belongs to.</param>
/// <param name="Part">Part number (multi-part checkpoints), else 1.</param>
/// <param name="Parts">Number of parts (multi-part checkpoints), else 1.</param>
/// <param name="Size">Size in bytes.</param>
public sealed record DeltaLogFile(string Path, DeltaLogFileKind Kind, long Version, int Part, int Parts, long Size);

/// <summary>
/// Names and paths of a Delta table: log files, data files, and the URI encoding of <c>add.path</c>.
/// A table lives under a relative root in an object store; its log is <c>{root}/_delta_log/</c>.
/// </summary>
public static class DeltaLogPaths
{
    /// <summary>Name of the log folder.</summary>
    public const string LogFolderName = "_delta_log";

    /// <summary>Name of the last-checkpoint pointer file.</summary>
    public const string LastCheckpointName = "_last_checkpoint";

    /// <summary>Joins a table root and a relative path ('' root means the store root).</summary>
    public static string Join(string tableRoot, string relative) =>
        tableRoot.Length == 0 ? relative : tableRoot.TrimEnd('/') + "/" + relative;

    /// <summary>The log folder prefix, ending in '/': <c>{root}/_delta_log/</c>.</summary>
    public static string LogPrefix(string tableRoot) => Join(tableRoot, LogFolderName + "/");

    /// <summary>Path of the commit file of <paramref name="version"/>.</summary>
    public static string CommitPath(string tableRoot, long version) =>
        LogPrefix(tableRoot) + version.ToString("D20", CultureInfo.InvariantCulture) + ".json";

    /// <summary>Path of the classic checkpoint of <paramref name="version"/>.</summary>
    public static string CheckpointPath(string tableRoot, long version) =>
        LogPrefix(tableRoot) + version.ToString("D20", CultureInfo.InvariantCulture) + ".checkpoint.parquet";

    /// <summary>Path of <c>_last_checkpoint</c>.</summary>
    public static string LastCheckpointPath(string tableRoot) => LogPrefix(tableRoot) + LastCheckpointName;

    /// <summary>
    /// Classifies a file name found directly inside <c>_delta_log/</c>. Anything else (<c>.crc</c> files, hidden
    /// files, compacted logs, temporary files) is not part of the log and returns false.
    /// </summary>
    public static bool TryParseLogFileName(string name, out DeltaLogFileKind kind, out long version, out int part, out int parts)
    {
        kind = default;
        version = 0;
        part = parts = 1;
        if (name.Length < 25 || !AllDigits(name.AsSpan(0, 20)) || name[20] != '.') return false;
        if (!long.TryParse(name.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out version)) return false;
        var rest = name.AsSpan(21);
        if (rest.SequenceEqual("json"))
        {
            kind = DeltaLogFileKind.Commit;
            return true;
        }
        if (!rest.StartsWith("checkpoint.")) return false;
        rest = rest["checkpoint.".Length..];
        if (rest.SequenceEqual("parquet"))
        {
            kind = DeltaLogFileKind.Checkpoint;
            return true;
        }
        // {part:D10}.{parts:D10}.parquet
        if (rest.Length == 10 + 1 + 10 + 8 && AllDigits(rest[..10]) && rest[10] == '.' && AllDigits(rest.Slice(11, 10))
            && rest[21..].SequenceEqual(".parquet"))
        {
            part = int.Parse(rest[..10], NumberStyles.None, CultureInfo.InvariantCulture);
            parts = int.Parse(rest.Slice(11, 10), NumberStyles.None, CultureInfo.InvariantCulture);
            if (part < 1 || parts < 1 || part > parts) return false;
            kind = DeltaLogFileKind.MultiPartCheckpoint;
            return true;
        }
        // {uuid}.json | {uuid}.parquet
        var dot = rest.LastIndexOf('.');
        if (dot == 36 && Guid.TryParseExact(rest[..36], "D", out _) && (rest[37..].SequenceEqual("json") || rest[37..].SequenceEqual("parquet")))
        {
            kind = DeltaLogFileKind.UuidCheckpoint;
            return true;
        }
        return false;
    }

    /// <summary>
    /// The relative path of a new data file in the date partition <paramref name="date"/>:
    /// <c>date=YYYY-MM-DD/part-{guid}.zstd.parquet</c> (needs no URI encoding).
    /// </summary>
    public static string NewDataFilePath(DateOnly date, string partitionColumn = "date") =>
        $"{partitionColumn}={date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/part-{Guid.NewGuid():D}.zstd.parquet";

    /// <summary>
    /// URI-encodes a relative data-file path for <c>add.path</c>/<c>remove.path</c>: every byte of the UTF-8 form
    /// outside <c>[A-Za-z0-9-_.~/=]</c> becomes <c>%XX</c> (so ':' can never read as a URI scheme, and '%' in
    /// Hive-escaped folder names survives one decode).
    /// </summary>
    public static string EncodePath(string relativePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        if (relativePath.All(IsPlainPathChar)) return relativePath;
        var sb = new StringBuilder(relativePath.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(relativePath))
        {
            var c = (char)b;
            if (b < 0x80 && IsPlainPathChar(c)) sb.Append(c);
            else sb.Append('%').Append(((int)b).ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>Decodes an <c>add.path</c> exactly once (RFC 2396 percent-decoding, UTF-8).</summary>
    public static string DecodePath(string path) => path.Contains('%') ? Uri.UnescapeDataString(path) : path;

    /// <summary>Whether a log path is an absolute URI (has a scheme such as <c>s3:</c> or <c>file:</c>) rather than relative.</summary>
    public static bool IsAbsolute(string path)
    {
        var colon = path.IndexOf(':');
        if (colon <= 0) return path.StartsWith('/');
        if (!char.IsAsciiLetter(path[0])) return false;
        for (var i = 1; i < colon; i++)
        {
            var c = path[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')) return false;
        }
        return true;
    }

    /// <summary>The primary key of a logical file: decoded path plus deletion-vector id.</summary>
    internal static string FileKey(string decodedPath, string? deletionVectorId) =>
        deletionVectorId is null ? decodedPath : decodedPath + "\0" + deletionVectorId;

    private static bool IsPlainPathChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' or '/' or '=';

    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c)) return false;
        }
        return true;
    }
}
