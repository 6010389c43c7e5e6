namespace TimeFusion.Transactions;

/// <summary>
/// The transaction is not open on this table: it was never begun here, already committed or aborted, aborted for
/// being idle too long, or lost with the table's activation (the owning grain moved or the server restarted). Nothing
/// of it is visible; the whole statement can be retried.
/// </summary>
public sealed class TransactionNotFoundException(Guid transaction, string table)
    : Exception($"transaction {transaction:N} is not open on table '{table}' (aborted, timed out or lost with the table's activation); nothing of it was written, retry the statement")
{
    /// <summary>The transaction id.</summary>
    public Guid Transaction { get; } = transaction;
}
