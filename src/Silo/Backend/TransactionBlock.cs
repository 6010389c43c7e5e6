using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Ingest;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// The writes of an open transaction block (<c>BEGIN</c> … <c>COMMIT</c>), held by the session until COMMIT, in statement
/// order: runs of INSERTs per (project, table) and COPY batches (routed by their rows), cut by the block's UPDATE and
/// DELETE statements. At COMMIT everything goes to the gateway in that order, which commits each (project, table)
/// grain's part as one WAL transaction (inserts and DML together: all or nothing, also across a crash); so a statement
/// sees exactly the block's writes before it. ROLLBACK, a failed block and a dropped connection just drop what is held.
/// Nothing is held on disk: a server that dies before COMMIT leaves nothing behind.
/// </summary>
internal sealed class TransactionBlock(long maxBytesPerTable) : IDisposable
{
    private readonly List<Run> _runs = [new()];

    private Run Current => _runs[^1];

    private sealed class Held
    {
        public List<RecordBatch> Batches { get; } = [];
        public long Bytes { get; set; }
    }

    /// <summary>Writes held between two DML statements of the block, and the DML statement that ends them (if any).</summary>
    private sealed class Run
    {
        public Dictionary<(string Project, string Table), Held> Inserts { get; } = [];
        public List<(string Table, RecordBatch Rows)> Copies { get; } = [];
        public HeldDml? Dml { get; set; }
    }

    /// <summary>An UPDATE or DELETE of the block, with the session's caller (and TimeZone) when it was issued.</summary>
    public sealed record HeldDml(ClassifiedStatement Statement, Caller Caller);

    /// <summary>Whether the block holds any UPDATE or DELETE.</summary>
    public bool HoldsDml => _runs.Count > 1;

    /// <summary><c>BEGIN READ ONLY</c> / <c>SET TRANSACTION READ ONLY</c>: writes are refused with 25006.</summary>
    public bool ReadOnly { get; set; }

    /// <summary>Refuses a write in a read-only block, as PostgreSQL does.</summary>
    public void RequireWritable(string verb)
    {
        if (ReadOnly)
            throw new PostgresErrorException(SqlState.ReadOnlySqlTransaction, $"cannot execute {verb} in a read-only transaction");
    }

    /// <summary>Holds the rows of one INSERT; returns the rows held.</summary>
    public long Hold(IReadOnlyList<EvaluatedInsert> rows)
    {
        long count = 0;
        foreach (var insert in rows)
        {
            var key = (insert.Project, insert.Table);
            if (!Current.Inserts.TryGetValue(key, out var held)) Current.Inserts[key] = held = new Held();
            foreach (var batch in insert.Rows.Batches.Where(b => b.Length > 0))
            {
                held.Batches.Add(batch);
                held.Bytes += ArrowSize.Of(batch);
                count += batch.Length;
            }
            if (BytesFor(insert.Table) > maxBytesPerTable)
                throw TooLarge(insert.Table);
        }
        return count;
    }

    /// <summary>Holds one COPY's rows (all its batches, this block now owns them).</summary>
    public void HoldCopy(string table, RecordBatch rows)
    {
        Current.Copies.Add((table, rows));
        if (BytesFor(table) > maxBytesPerTable) throw TooLarge(table);
    }

    /// <summary>Holds an UPDATE or DELETE: it runs at COMMIT after the writes held before it, before those held after it.</summary>
    public void HoldDml(ClassifiedStatement statement, Caller caller)
    {
        Current.Dml = new HeldDml(statement, caller);
        _runs.Add(new Run());
    }

    private long BytesFor(string table) => _runs.Sum(r =>
        r.Copies.Where(c => c.Table == table).Sum(c => ArrowSize.Of(c.Rows)) + r.Inserts.Where(i => i.Key.Table == table).Sum(i => i.Value.Bytes));

    private PostgresErrorException TooLarge(string table) => new(SqlState.ProgramLimitExceeded,
        $"the transaction block holds more than {maxBytesPerTable} bytes for table \"{table}\", the limit of one batch (TimeFusion:Ingest:MaxBatchBytes); commit in smaller blocks");

    /// <summary>
    /// Hands everything the block holds to <paramref name="commit"/> in block order, run by run: each (project, table) of a
    /// run as one batch, in the order the block first wrote them, then each COPY of the run (routed by its rows), then the
    /// run's DML statement. The gateway groups them per table grain, and each grain commits its part as one WAL
    /// transaction (see <c>IQueryGatewayGrain.CommitBlockAsync</c>).
    /// </summary>
    public async Task CommitAsync(Func<IReadOnlyList<BlockStatement>, Task> commit)
    {
        var statements = new List<BlockStatement>();
        var combined = new List<RecordBatch>();
        try
        {
            foreach (var run in _runs)
            {
                foreach (var ((project, table), held) in run.Inserts)
                {
                    var rows = held.Batches.Count == 1 ? held.Batches[0] : Combine(held.Batches);
                    if (held.Batches.Count != 1) combined.Add(rows);
                    statements.Add(new BlockStatement(table, project, rows, null, null));
                }
                foreach (var (table, rows) in run.Copies)
                    statements.Add(new BlockStatement(table, null, rows, null, null));
                if (run.Dml is { } dml)
                    statements.Add(new BlockStatement(null, null, null, dml.Statement, dml.Caller.TimeZone));
            }
            if (statements.Count > 0) await commit(statements);
        }
        finally
        {
            foreach (var batch in combined) batch.Dispose();
        }
    }

    /// <summary>
    /// One batch of every held batch: INSERTs with different column lists are widened to the union of their columns,
    /// a column an INSERT left out being null (what the table grain fills it with anyway).
    /// </summary>
    private static RecordBatch Combine(IReadOnlyList<RecordBatch> batches)
    {
        var fields = new List<Field>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var b in batches)
        foreach (var f in b.Schema.FieldsList)
        {
            if (names.Add(f.Name))
            {
                var everywhere = batches.All(o => o.Schema.GetFieldIndex(f.Name) >= 0);
                fields.Add(everywhere ? f : new Field(f.Name, f.DataType, true, f.Metadata));
            }
        }
        var schema = new Schema(fields, null);
        var columns = new IArrowArray[fields.Count];
        for (var c = 0; c < columns.Length; c++)
        {
            var name = fields[c].Name;
            var parts = batches.Select(b => b.Schema.GetFieldIndex(name) is var i and >= 0 ? b.Column(i) : NullColumns.Of(fields[c].DataType, b.Length)).ToList();
            columns[c] = ArrowArrayConcatenator.Concatenate(parts);
        }
        return new RecordBatch(schema, columns, batches.Sum(b => b.Length));
    }

    /// <summary>Drops everything held (ROLLBACK, a failed block, a dropped connection).</summary>
    public void Dispose()
    {
        foreach (var run in _runs)
        {
            foreach (var held in run.Inserts.Values)
            foreach (var b in held.Batches)
                b.Dispose();
            foreach (var (_, rows) in run.Copies) rows.Dispose();
        }
        _runs.Clear();
        _runs.Add(new Run());
    }
}
