using Apache.Arrow;

namespace TimeFusion.DuckDb;

/// <summary>
/// Joins consecutive small record batches (DuckDB's 2,048-row chunks) into batches of about a target row count.
/// Takes ownership of every batch it is given: joined inputs are disposed. Results with a dictionary column, or a
/// column type the Arrow concatenator fails on, pass through in DuckDB's chunks.
/// </summary>
internal sealed class BatchCoalescer : IDisposable
{
    private readonly Schema _schema;
    private readonly int _targetRows;
    private readonly List<RecordBatch> _pending = [];
    private readonly List<RecordBatch> _output = [];
    private int _pendingRows;
    private bool _disabled;

    public BatchCoalescer(Schema schema, int targetRows)
    {
        _schema = schema;
        _targetRows = targetRows;
        // The concatenator cannot join dictionary arrays (DuckDB's ENUM results): keep those results' chunks.
        _disabled = targetRows <= 0 || schema.FieldsList.Any(f => f.DataType is Apache.Arrow.Types.DictionaryType);
    }

    public void Add(RecordBatch batch)
    {
        if (batch.Length == 0)
        {
            batch.Dispose();
            return;
        }
        if (_disabled)
        {
            _output.Add(batch);
            return;
        }
        if (_pendingRows > 0 && _pendingRows + batch.Length > _targetRows)
            FlushPending();
        _pending.Add(batch);
        _pendingRows += batch.Length;
        if (_pendingRows >= _targetRows)
            FlushPending();
    }

    /// <summary>The batches joined so far (not those still pending), in order; the coalescer no longer owns them.</summary>
    /// <param name="flush">Also join and hand out what is pending (a streamed result's byte bound was reached).</param>
    public List<RecordBatch> TakeReady(bool flush = false)
    {
        if (flush)
            FlushPending();
        if (_output.Count == 0)
            return [];
        var ready = new List<RecordBatch>(_output);
        _output.Clear();
        return ready;
    }

    /// <summary>Every batch, in order; the coalescer no longer owns them.</summary>
    public List<RecordBatch> Finish()
    {
        FlushPending();
        var result = new List<RecordBatch>(_output);
        _output.Clear();
        return result;
    }

    private void FlushPending()
    {
        if (_pending.Count == 0)
            return;
        if (_pending.Count == 1)
        {
            _output.Add(_pending[0]);
        }
        else
        {
            RecordBatch joined;
            try
            {
                var columns = new IArrowArray[_schema.FieldsList.Count];
                var parts = new List<IArrowArray>(_pending.Count);
                for (var c = 0; c < columns.Length; c++)
                {
                    parts.Clear();
                    foreach (var b in _pending)
                        parts.Add(b.Column(c));
                    columns[c] = ArrowArrayConcatenator.Concatenate(parts);
                }
                joined = new RecordBatch(_schema, columns, _pendingRows);
            }
            catch (Exception e) when (e is NotSupportedException or NotImplementedException or ArgumentException or InvalidOperationException)
            {
                // The concatenator does not handle one of the types: keep DuckDB's chunks.
                _disabled = true;
                _output.AddRange(_pending);
                _pending.Clear();
                _pendingRows = 0;
                return;
            }
            foreach (var b in _pending)
                b.Dispose();
            _output.Add(joined);
        }
        _pending.Clear();
        _pendingRows = 0;
    }

    public void Dispose()
    {
        foreach (var b in _pending)
            b.Dispose();
        foreach (var b in _output)
            b.Dispose();
        _pending.Clear();
        _output.Clear();
    }
}
