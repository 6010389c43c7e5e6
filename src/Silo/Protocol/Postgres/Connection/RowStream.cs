using Apache.Arrow;
using TimeFusion.Silo.Protocol.Postgres.Types;

namespace TimeFusion.Silo.Protocol.Postgres.Connection;

/// <summary>
/// The rows of one result being sent: the batch enumerator, the current batch and row, and the column
/// encoders (bound to each batch in turn). Can stop after N rows and resume (portal suspension).
/// </summary>
internal sealed class RowStream(StatementResult result, ColumnEncoder[] encoders, CancellationToken cancellationToken) : IAsyncDisposable
{
    private readonly IAsyncEnumerator<RecordBatch> _enumerator = result.Batches!.GetAsyncEnumerator(cancellationToken);
    private RecordBatch? _batch;
    private int _row;

    public ColumnEncoder[] Encoders { get; private set; } = encoders;

    /// <summary>Sends the rows from here on with other encoders (a cursor's FETCH asking for other formats).</summary>
    public void UseEncoders(ColumnEncoder[] encoders)
    {
        Encoders = encoders;
        if (_batch is not null)
        {
            for (var i = 0; i < Encoders.Length; i++)
            {
                Encoders[i].Bind(_batch.Column(i));
            }
        }
    }

    public bool Finished { get; private set; }

    /// <summary>Moves to the next row to send; false when the result is exhausted.</summary>
    public async ValueTask<bool> MoveNextRowAsync()
    {
        while (_batch is null || _row >= _batch.Length)
        {
            _batch?.Dispose();
            _batch = null;
            if (Finished || !await _enumerator.MoveNextAsync().ConfigureAwait(false))
            {
                Finished = true;
                return false;
            }
            var batch = _enumerator.Current;
            if (batch.ColumnCount != Encoders.Length)
            {
                batch.Dispose();
                throw new InvalidOperationException($"the backend returned a batch of {batch.ColumnCount} columns for a result of {Encoders.Length}");
            }
            for (var i = 0; i < Encoders.Length; i++)
            {
                Encoders[i].Bind(batch.Column(i));
            }
            _batch = batch;
            _row = 0;
        }
        return true;
    }

    /// <summary>The index of the current row in the current batch.</summary>
    public int Row => _row;

    /// <summary>Marks the current row sent.</summary>
    public void Advance() => _row++;

    public async ValueTask DisposeAsync()
    {
        _batch?.Dispose();
        _batch = null;
        try
        {
            await _enumerator.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            await result.DisposeAsync().ConfigureAwait(false);
        }
    }
}
