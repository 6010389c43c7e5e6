using System.Globalization;

namespace TimeFusion.Wal;

/// <summary>
/// Segment file names: <c>{firstLsn:D20}.wal</c>, the LSN of the segment's first entry. Names sort in LSN order,
/// and the last segment's name keeps the next LSN even when the segment is empty, so LSNs continue after
/// truncation and reopen without any other file.
/// </summary>
internal static class WalSegmentName
{
    private const string Extension = ".wal";
    private const int Digits = 20;

    /// <summary>The name of the segment whose first entry has LSN <paramref name="firstLsn"/>.</summary>
    public static string Format(long firstLsn) => firstLsn.ToString("D20", CultureInfo.InvariantCulture) + Extension;

    /// <summary>Parses a segment name; false for any other file.</summary>
    public static bool TryParse(string name, out long firstLsn)
    {
        firstLsn = 0;
        if (name.Length != Digits + Extension.Length || !name.EndsWith(Extension, StringComparison.Ordinal)) return false;
        var digits = name.AsSpan(0, Digits);
        foreach (var c in digits)
        {
            if (c is < '0' or > '9') return false;
        }
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out firstLsn) && firstLsn >= 1;
    }
}
