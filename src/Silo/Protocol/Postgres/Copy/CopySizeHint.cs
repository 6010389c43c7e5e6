namespace TimeFusion.Silo.Protocol.Postgres.Copy;

/// <summary>
/// A connection's last COPY batch size, per column: the next COPY into the same columns starts its builders at that
/// size instead of growing every column from empty through a chain of (large-object-heap) doublings — clients loading
/// in many statements of a few thousand rows start a new parser each time.
/// </summary>
internal sealed class CopySizeHint
{
    private string? _key;
    private int _rows;
    private int[] _bytes = [];

    /// <summary>The hinted (rows, per-column bytes) for COPYs into <paramref name="key"/>, if one was recorded.</summary>
    public bool TryGet(string key, int columns, out int rows, out int[] bytes)
    {
        rows = _rows;
        bytes = _bytes;
        return _key == key && _bytes.Length == columns && _rows > 0;
    }

    /// <summary>Records a cut batch's size for COPYs into <paramref name="key"/> (a COPY's short last batch does not shrink it).</summary>
    public void Record(string key, int rows, int[] bytes)
    {
        if (_key == key && rows < _rows)
        {
            return;
        }
        _key = key;
        _rows = rows;
        _bytes = bytes;
    }
}
