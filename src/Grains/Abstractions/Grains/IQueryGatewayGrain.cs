using Apache.Arrow;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// Plans every statement and routes it (DESIGN.md §1, §4): to one table grain when it touches one (project, table),
/// or fanned out to several with the results merged here. A stateless worker: one or more per silo.
/// </summary>
public interface IQueryGatewayGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Runs a SELECT; returns its rows. The text is split and classified here (exactly one SELECT).
    /// <paramref name="cancellationToken"/> (a statement timeout, a cancel request, a lost client, shutdown) reaches
    /// every table grain of the statement and interrupts DuckDB there.
    /// </summary>
    Task<ArrowBatches> QueryAsync(string sql, Caller caller, CancellationToken cancellationToken = default);

    /// <summary>
    /// Plans a query (one SELECT or EXPLAIN, as <see cref="QueryAsync"/> takes) and starts it: a statement that one table
    /// grain answers whole and whose rows are not gathered anywhere is answered with where to stream them from
    /// (<see cref="QueryStart.Grain"/>); any other is run here and answered with its rows. Read the answer with
    /// <see cref="QueryResultStream.OpenAsync"/>.
    /// </summary>
    Task<QueryStart> StartQueryAsync(string sql, Caller caller, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="StartQueryAsync"/> for a SELECT a front end has already classified (<see cref="QueryStatementAsync"/>).</summary>
    Task<QueryStart> StartQueryStatementAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs statements that change data (INSERT … VALUES, UPDATE, DELETE, CREATE TABLE, FLUSH); returns rows affected.
    /// The text is split and classified here.
    /// </summary>
    Task<long> ExecuteAsync(string sql, Caller caller, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs one SELECT a front end has already split off and classified (<see cref="StatementKind.Select"/>): it is not
    /// split or classified again. The planner still refuses text that is not a single SELECT.
    /// </summary>
    Task<ArrowBatches> QueryStatementAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs one statement a front end has already split off and classified (<see cref="StatementKind.Insert"/>,
    /// <see cref="StatementKind.Update"/>, <see cref="StatementKind.Delete"/>): it is not split or classified again;
    /// returns rows affected. The planner still refuses text that is not one statement of that kind.
    /// </summary>
    Task<long> ExecuteStatementAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default);

    /// <summary>Inserts a batch into (project, table) after checking the caller may write that project.</summary>
    Task<long> InsertAsync(string project, string table, [Immutable] RecordBatch batch, Caller caller);

    /// <summary>
    /// Inserts a batch routed by its rows: with a <c>project_id</c> column each row goes to its project (every project
    /// checked writable before anything is written: a row the caller may not write fails the whole call with 42501);
    /// without one, every row goes to the caller's default project. Each project's rows land atomically. Returns the
    /// rows inserted.
    /// </summary>
    Task<long> InsertRoutedAsync(string table, [Immutable] RecordBatch batch, Caller caller);

    /// <summary>
    /// Evaluates one INSERT a front end has already split off and classified (<see cref="StatementKind.Insert"/>) without
    /// storing anything: its rows per target project (each checked writable), for a front end that holds a transaction
    /// block's inserts and sends them at COMMIT with <see cref="InsertAsync"/>.
    /// </summary>
    Task<IReadOnlyList<EvaluatedInsert>> EvaluateInsertAsync(ClassifiedStatement statement, Caller caller, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stages one chunk of write transaction <paramref name="transaction"/> (a streamed COPY), routed as
    /// <see cref="InsertRoutedAsync"/> routes rows (grants checked the same way), on each project's table grain: begins
    /// the transaction on grains not in <paramref name="begun"/> and returns those it began (the caller commits or aborts
    /// them all later). On failure the grains it began are aborted and the caller aborts the others. Nothing staged is
    /// visible before <see cref="CommitRoutedAsync"/>.
    /// </summary>
    Task<IReadOnlyList<string>> StageRoutedAsync(Guid transaction, string table, [Immutable] RecordBatch batch, Caller caller, IReadOnlyList<string> begun);

    /// <summary>
    /// Commits the transaction on each project's table grain, one after another, once every chunk was staged; returns the
    /// rows committed. Each (project, table) commits atomically; a failure part-way leaves the projects committed so far
    /// committed (the caller aborts the rest).
    /// </summary>
    Task<long> CommitRoutedAsync(Guid transaction, string table, IReadOnlyList<string> projects);

    /// <summary>
    /// Commits a PostgreSQL transaction block's held writes: rows for one (project, table), rows routed by their
    /// <c>project_id</c> (COPY), and UPDATE/DELETE statements, in block order. The writes are grouped per (project, table)
    /// grain, keeping their order, and each grain commits its part atomically (<see cref="ITableGrain.CommitBlockAsync"/>),
    /// grains in the order the block first wrote them. A failure at the first grain leaves nothing; a failure at a later
    /// one leaves the grains before it committed and fails with 40003 naming them. Returns rows written and affected.
    /// </summary>
    Task<long> CommitBlockAsync(IReadOnlyList<BlockStatement> statements, Caller caller, CancellationToken cancellationToken = default);

    /// <summary>Aborts the transaction on each project's table grain (best effort: an idle transaction times out anyway).</summary>
    Task AbortRoutedAsync(Guid transaction, string table, IReadOnlyList<string> projects);
}

/// <summary>One write a transaction block holds until COMMIT.</summary>
/// <param name="Table">The table (any case).</param>
/// <param name="Project">For rows: their project, or null to route them by their <c>project_id</c> column (COPY).</param>
/// <param name="Rows">Rows to insert, or null for a statement.</param>
/// <param name="Statement">An UPDATE or DELETE (classified), or null for rows.</param>
/// <param name="TimeZone">The session's TimeZone when the statement was issued (the caller is the commit's own: a block
/// has one user).</param>
[GenerateSerializer, Immutable]
public sealed record BlockStatement(
    [property: Id(0)] string? Table,
    [property: Id(1)] string? Project,
    [property: Id(2)] RecordBatch? Rows,
    [property: Id(3)] ClassifiedStatement? Statement,
    [property: Id(4)] string? TimeZone);

/// <summary>The rows one INSERT would add to one (project, table), evaluated but not stored.</summary>
/// <param name="Project">The project the rows go to.</param>
/// <param name="Table">The table (lower case).</param>
/// <param name="Rows">The rows, in the INSERT's column list (columns it leaves out are filled in when stored).</param>
[GenerateSerializer, Immutable]
public sealed record EvaluatedInsert([property: Id(0)] string Project, [property: Id(1)] string Table, [property: Id(2)] ArrowBatches Rows);

/// <summary>Who is asking: a user bound to projects, or an admin.</summary>
/// <param name="DefaultProject">The project unscoped statements use.</param>
/// <param name="Projects">Projects the caller may read and write; ignored for admins.</param>
/// <param name="IsAdmin">May read and write every project.</param>
[GenerateSerializer, Immutable]
public sealed record Caller([property: Id(0)] string? DefaultProject, [property: Id(1)] IReadOnlyList<string> Projects, [property: Id(2)] bool IsAdmin)
{
    /// <summary>An admin caller.</summary>
    public static Caller Admin(string? defaultProject = null) => new(defaultProject, [], true);

    /// <summary>A user of one project.</summary>
    public static Caller ForProject(string project) => new(project, [project], false);

    /// <summary>
    /// The session's <c>TimeZone</c> (an IANA name such as <c>Europe/Paris</c>); null is UTC. Queries run in it, as
    /// PostgreSQL's do: a timestamptz cast to text (or concatenated to a string) is shown in it, and a time literal
    /// without an offset is read in it.
    /// </summary>
    [Id(3)]
    public string? TimeZone { get; init; }
}

/// <summary>What kind of statement a piece of SQL is.</summary>
public enum StatementKind
{
    /// <summary>A query: SELECT, WITH … SELECT, set operations, VALUES, <c>FROM t</c>, <c>TABLE t</c>.</summary>
    Select,
    /// <summary>INSERT.</summary>
    Insert,
    /// <summary>UPDATE.</summary>
    Update,
    /// <summary>DELETE.</summary>
    Delete,
    /// <summary>CREATE TABLE.</summary>
    CreateTable,
    /// <summary>Our own <c>FLUSH</c> / <c>FLUSH &lt;table&gt;</c>: flush buffered rows to Delta now.</summary>
    Flush,
    /// <summary>COPY (e.g. <c>COPY t FROM STDIN</c>, handled by the wire protocol).</summary>
    Copy,
    /// <summary>Our own <c>OPTIMIZE t [WHERE date …]</c>: merge small files now.</summary>
    Optimize,
    /// <summary><c>VACUUM t [RETAIN n HOURS]</c>: delete files no version within the window references.</summary>
    Vacuum,
    /// <summary><c>ALTER TABLE t SET (retention = '30 days' [, project = 'p'])</c>; other ALTERs are refused.</summary>
    AlterTable,
    /// <summary>
    /// Session and transaction statements passed through to the front end: SET, RESET, SHOW, BEGIN, START,
    /// COMMIT, END, ROLLBACK, ABORT, SAVEPOINT, RELEASE, DISCARD, DEALLOCATE, DESCRIBE, LISTEN, UNLISTEN, CLOSE.
    /// </summary>
    Utility,
    /// <summary>Anything else (DDL other than CREATE TABLE, EXPLAIN, PRAGMA, ATTACH, …): the gateway refuses these.</summary>
    Other,
}

/// <summary>
/// One statement of a SQL string, split off and classified once (by the gateway, or by a protocol front end that
/// passes it on with <see cref="IQueryGatewayGrain.QueryStatementAsync"/> / <see cref="IQueryGatewayGrain.ExecuteStatementAsync"/>).
/// </summary>
/// <param name="Kind">The statement kind.</param>
/// <param name="Sql">The statement's text: from its first token to its last, without the separating semicolon.</param>
/// <param name="Keyword">Its first keyword, upper-case (<c>SELECT</c>, <c>WITH</c>, <c>SET</c>, …; <c>(</c> for a parenthesized query).</param>
[GenerateSerializer, Immutable]
public sealed record ClassifiedStatement([property: Id(0)] StatementKind Kind, [property: Id(1)] string Sql, [property: Id(2)] string Keyword)
{
    /// <summary>For <see cref="StatementKind.Flush"/>: the table named (<c>FLUSH t</c>), or null for <c>FLUSH</c> (every table).</summary>
    [Id(3)] public string? FlushTable { get; init; }
}

/// <summary>
/// How a query started (<see cref="IQueryGatewayGrain.StartQueryAsync"/>): its rows, the table grain and part that
/// stream them (<see cref="ITableGrain.QueryStreamAsync"/>), or several table grains that each stream the part
/// <see cref="Query"/> and how their streams combine (<see cref="Merge"/>). Exactly one of <see cref="Rows"/>,
/// <see cref="Grain"/> and <see cref="Grains"/> is set.
/// </summary>
/// <param name="Rows">The whole result, when the gateway ran the statement.</param>
/// <param name="Grain">The table grain's key (<see cref="TableGrainKey"/>), when its stream is the result.</param>
/// <param name="Query">The grain's part, with <see cref="Grain"/> or <see cref="Grains"/>.</param>
/// <param name="Grains">The table grains' keys, when their streams combined are the result.</param>
/// <param name="Merge">How the streams of <see cref="Grains"/> combine.</param>
[GenerateSerializer, Immutable]
public sealed record QueryStart(
    [property: Id(0)] ArrowBatches? Rows,
    [property: Id(1)] string? Grain,
    [property: Id(2)] GrainQuery? Query,
    [property: Id(3)] IReadOnlyList<string>? Grains = null,
    [property: Id(4)] StreamMerge? Merge = null);

/// <summary>
/// How several table grains' streams of one statement combine at the door: concatenated, or (<see cref="Sorted"/>)
/// merged by their last column — a sort key (BIGINT, or BLOB compared bytewise) that orders as the statement does, each grain's rows already
/// ordered by it — which is then dropped; <see cref="Offset"/> rows are skipped and at most <see cref="Limit"/> kept.
/// </summary>
/// <param name="Sorted">Whether the streams are merged by their last column (a sort key).</param>
/// <param name="Limit">At most this many rows (null: all).</param>
/// <param name="Offset">Rows skipped first.</param>
[GenerateSerializer, Immutable]
public sealed record StreamMerge(
    [property: Id(0)] bool Sorted,
    [property: Id(1)] long? Limit,
    [property: Id(2)] long Offset)
{
    /// <summary>
    /// The statement's memory limit (<c>TimeFusion:Execution:StatementMemoryBytes</c>; 0: none): a sorted merge holds
    /// a batch of every grain at once, and fails with 53200 when those batches would hold more.
    /// </summary>
    [Id(3)]
    public long MemoryBytes { get; init; }
}
