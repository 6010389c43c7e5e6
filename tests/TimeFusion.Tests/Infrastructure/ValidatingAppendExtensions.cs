using Apache.Arrow;
using TimeFusion.Buffer;
using TimeFusion.Ingest;
using TimeFusion.Wal;

namespace TimeFusion.Tests;

/// <summary>
/// Tests that drive the buffer or the WAL directly, below <c>TableEngine</c>, hand in plain record
/// batches: these overloads validate them the way the layer above would (the production methods take only a
/// <see cref="ValidatedBatch"/>), so a malformed batch is still refused with the validator's exception.
/// </summary>
internal static class ValidatingAppendExtensions
{
    /// <summary>Validates <paramref name="batch"/> for the table (as <see cref="BatchValidator.ValidateRows"/>), then appends it.</summary>
    public static async Task AppendAsync(this BufferTable table, RecordBatch batch, long lsn, CancellationToken cancellationToken)
    {
        var validated = BatchValidator.ValidateRows(batch, table.Schema, table.Options.ValidateUtf8);
        await table.AppendAsync(validated, lsn, cancellationToken);
    }

    /// <summary>Validates <paramref name="batch"/> for the table, then appends it with the caller's reservation (released if validation fails).</summary>
    public static async Task AppendAsync(this BufferTable table, RecordBatch batch, long lsn, MemoryReservation reservation, CancellationToken cancellationToken)
    {
        ValidatedBatch validated;
        try
        {
            validated = BatchValidator.ValidateRows(batch, table.Schema, table.Options.ValidateUtf8);
        }
        catch
        {
            reservation.Release();
            throw;
        }
        await table.AppendAsync(validated, lsn, reservation, cancellationToken);
    }

    /// <summary>Validates <paramref name="batch"/> against its own schema (WAL tests use batches of any shape), then logs it.</summary>
    public static ValueTask<long> AppendInsertAsync(this WriteAheadLog log, RecordBatch batch, CancellationToken cancellationToken = default) =>
        log.AppendInsertAsync(BatchValidator.ValidateRelation(batch), cancellationToken);
}
