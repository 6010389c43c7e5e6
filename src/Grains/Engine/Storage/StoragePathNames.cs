using System.Security.Cryptography;
using System.Text;
using TimeFusion.Tables;

namespace TimeFusion.Storage;

/// <summary>
/// Maps project and table names (any length, any Unicode, '/' and '..' included) to safe path segments.
/// A name made only of <c>[A-Za-z0-9_-]</c> (plus inner dots), at most 64 characters, is used as is;
/// any other name becomes <c>x-</c> + 40 hex digits of its SHA-256. Plain names never start with
/// <c>x-</c>, so the two forms cannot meet. Because a hash can in principle be shared, every store
/// that uses a hashed segment also writes the full name inside and checks it on open.
/// </summary>
public static class StoragePathNames
{
    private const int MaxPlainLength = 64;

    /// <summary>The path segment for one name.</summary>
    public static string Segment(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return IsPlain(name) ? name : "x-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..40];
    }

    /// <summary>The relative folder of a table's Delta table: <c>projects/{project}/{table}</c>.</summary>
    public static string DeltaTableRoot(TableId id) => $"projects/{Segment(id.Project)}/{Segment(id.Table)}";

    /// <summary>The relative folder of a table's WAL: <c>wal/{project}/{table}</c>.</summary>
    public static string WalRoot(TableId id) => $"wal/{Segment(id.Project)}/{Segment(id.Table)}";

    private static bool IsPlain(string name)
    {
        if (name.Length > MaxPlainLength || name.StartsWith("x-", StringComparison.Ordinal)) return false;
        if (name[0] == '.' || name[^1] == '.') return false;
        foreach (var ch in name)
        {
            var ok = ch is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-' or '.';
            if (!ok) return false;
        }
        return !name.Contains("..", StringComparison.Ordinal);
    }
}
