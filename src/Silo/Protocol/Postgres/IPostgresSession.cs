using Apache.Arrow;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>
/// One client connection's session in the backend. Calls never overlap: the protocol layer runs one
/// statement at a time per session. Cancellation tokens fire on a client cancel request, on the
/// session's statement timeout and on server shutdown.
/// </summary>
public interface IPostgresSession : IAsyncDisposable
{
    /// <summary>
    /// Describes one statement without running it (extended-query Describe): parameter types and the
    /// result schema (null when the statement returns no rows). <paramref name="parameterTypeHints"/>
    /// holds the types the client declared in Parse (null where it left them unspecified).
    /// </summary>
    ValueTask<StatementDescription> DescribeAsync(BackendStatement statement, IReadOnlyList<PgType?> parameterTypeHints, CancellationToken cancellationToken);

    /// <summary>
    /// Executes one statement (never several: the protocol layer splits simple-query strings) with bound
    /// parameters (CLR values decoded by parameter type, see <see cref="PgType"/>). Returns rows
    /// (an Arrow schema and batches) or a command tag. The protocol layer disposes the returned result
    /// and every batch it reads from it.
    /// </summary>
    ValueTask<StatementResult> ExecuteAsync(BackendStatement statement, IReadOnlyList<object?> parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Resolves the target of <c>COPY table [(columns)] FROM STDIN</c>: the Arrow schema rows must be parsed
    /// into, in the column order of the COPY statement (all table columns when <paramref name="columns"/> is null).
    /// </summary>
    ValueTask<CopyTarget> DescribeCopyTargetAsync(string table, IReadOnlyList<string>? columns, CancellationToken cancellationToken);

    /// <summary>
    /// Ingests the rows of a COPY FROM STDIN, parsed by the protocol layer into batches of
    /// <see cref="CopyTarget.Schema"/>. All or nothing: when enumerating <paramref name="batches"/> throws
    /// (bad row, client CopyFail, cancel) nothing may be committed. Returns the number of rows stored.
    /// The backend owns (and disposes) the batches it receives.
    /// </summary>
    ValueTask<long> CopyInAsync(CopyTarget target, IAsyncEnumerable<RecordBatch> batches, CancellationToken cancellationToken);
}
