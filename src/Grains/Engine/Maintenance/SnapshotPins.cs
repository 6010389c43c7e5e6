using TimeFusion.Delta;

namespace TimeFusion.Maintenance;

/// <summary>
/// The Delta snapshots in use by running readers (queries, OPTIMIZE): VACUUM never deletes a file one of them
/// references, whatever the retention. Pins are counted per snapshot object; thread-safe.
/// </summary>
public sealed class SnapshotPins
{
    private readonly Dictionary<DeltaSnapshot, int> _pins = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Pins <paramref name="snapshot"/> until the returned handle is disposed.</summary>
    public IDisposable Pin(DeltaSnapshot snapshot)
    {
        lock (_pins)
            _pins[snapshot] = _pins.GetValueOrDefault(snapshot) + 1;
        return new Release(this, snapshot);
    }

    /// <summary>
    /// Marks a data file (path relative to the table root) as being written and not yet committed: VACUUM leaves it
    /// alone until the handle is disposed.
    /// </summary>
    public IDisposable Writing(string relativePath)
    {
        lock (_pins)
            _inFlight.Add(relativePath);
        return new Done(this, relativePath);
    }

    /// <summary>How many snapshots are pinned now.</summary>
    public int Count
    {
        get { lock (_pins) return _pins.Count; }
    }

    /// <summary>Every data path (relative to the table root) a pinned snapshot references or a writer is writing.</summary>
    public HashSet<string> ProtectedPaths()
    {
        lock (_pins)
        {
            var paths = new HashSet<string>(_inFlight, StringComparer.Ordinal);
            foreach (var snapshot in _pins.Keys)
            foreach (var f in snapshot.Files)
                paths.Add(f.DataPath);
            return paths;
        }
    }

    private void Unpin(DeltaSnapshot snapshot)
    {
        lock (_pins)
        {
            if (!_pins.TryGetValue(snapshot, out var n)) return;
            if (n <= 1) _pins.Remove(snapshot);
            else _pins[snapshot] = n - 1;
        }
    }

    private sealed class Release(SnapshotPins owner, DeltaSnapshot snapshot) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) owner.Unpin(snapshot);
        }
    }

    private sealed class Done(SnapshotPins owner, string path) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._pins) owner._inFlight.Remove(path);
        }
    }
}
