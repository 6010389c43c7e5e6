namespace TimeFusion.Wal;

/// <summary>A segment's name, first LSN and readable length (for the active segment: up to the last acknowledged entry).</summary>
internal readonly record struct WalSegmentInfo(string Name, long FirstLsn, long Length);

/// <summary>The log's segments in LSN order, shared by the writer loop, readers and truncation.</summary>
internal sealed class WalSegmentSet
{
    private readonly Lock _gate = new();
    private readonly List<WalSegmentInfo> _segments = [];

    public WalSegmentInfo[] Snapshot()
    {
        lock (_gate) return _segments.ToArray();
    }

    public void Add(string name, long firstLsn, long length)
    {
        lock (_gate) _segments.Add(new WalSegmentInfo(name, firstLsn, length));
    }

    public void SetLength(string name, long length)
    {
        lock (_gate)
        {
            var i = _segments.FindLastIndex(s => s.Name == name);
            if (i >= 0) _segments[i] = _segments[i] with { Length = length };
        }
    }

    /// <summary>Segments, oldest first, whose every entry is at or below <paramref name="upToLsn"/>; never the active one.</summary>
    public List<WalSegmentInfo> Covered(long upToLsn)
    {
        lock (_gate)
        {
            var result = new List<WalSegmentInfo>();
            for (var i = 0; i + 1 < _segments.Count && _segments[i + 1].FirstLsn - 1 <= upToLsn; i++) result.Add(_segments[i]);
            return result;
        }
    }

    public void Remove(string name)
    {
        lock (_gate) _segments.RemoveAll(s => s.Name == name);
    }
}
