using TimeFusion.Dml;
using TimeFusion.Engine;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Wal;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Transactions;

/// <summary>
/// A transaction block's writes to one table (inserts, an UPDATE, more inserts, a DELETE) as one WAL transaction entry:
/// applied live, replayed from the log alone (crash after logging, before applying), replayed after a crash part-way
/// through applying (the first DML's Delta side landed), and lost with its commit record (the entry torn): the first three
/// give exactly the same rows, the last gives none of the block.
/// </summary>
public sealed class TransactionEntryReplayTests : EngineTestBase
{
    private const string Update = "duration % 10 = 0", Delete = "duration % 10 = 1";

    /// <summary>Base rows a-0..a-99 (durations 0..99), flushed to Delta, plus one buffered plain insert z-0 (7003, which the block leaves alone).</summary>
    private async Task LoadAsync(TableId id)
    {
        await using var engine = await Kit.OpenAsync(id);
        await engine.InsertAsync(EngineTestKit.Rows("a", 100));
        await engine.FlushAsync();
        await engine.InsertAsync(EngineTestKit.Rows("z", 1, durationBase: 7003));
    }

    /// <summary>
    /// The block: insert b (1000..1009), add 1 to durations ending in 0, insert c (5000..5009), delete durations ending in 1,
    /// insert d (9000..9009; after a DML, so the same LSN's rows sit both in DuckDB and in the Arrow tail unless moved).
    /// </summary>
    private static List<BlockStep> Block() =>
    [
        new BlockInsert(EngineTestKit.Rows("b", 10, durationBase: 1000)),
        new BlockDml(true, Update, [new("duration", "duration + 1")]),
        new BlockInsert(EngineTestKit.Rows("c", 10, durationBase: 5000)),
        new BlockDml(false, Delete, []),
        new BlockInsert(EngineTestKit.Rows("d", 10, durationBase: 9000)),
    ];

    /// <summary>The block as the engine logs it (effective, project-confined statements).</summary>
    private static List<WalTransactionStep> Logged(TableId id) =>
    [
        new(WalOperation.Insert, WalPayloads.EncodeInsert(EngineTestKit.Rows("b", 10, durationBase: 1000))),
        new(WalOperation.Update, WalPayloads.EncodeDml(DmlStatement.Create(WalOperation.Update, Update, [new("duration", "duration + 1")], EngineTestKit.Schema, id.Project).ToRecord())),
        new(WalOperation.Insert, WalPayloads.EncodeInsert(EngineTestKit.Rows("c", 10, durationBase: 5000))),
        new(WalOperation.Delete, WalPayloads.EncodeDml(DmlStatement.Create(WalOperation.Delete, Delete, null, EngineTestKit.Schema, id.Project).ToRecord())),
        new(WalOperation.Insert, WalPayloads.EncodeInsert(EngineTestKit.Rows("d", 10, durationBase: 9000))),
    ];

    private async Task AppendLoggedAsync(TableId id)
    {
        await using var wal = await WriteAheadLog.OpenAsync(id, Kit.Wal);
        await wal.AppendTransactionAsync(Logged(id));
    }

    private async Task<(long Count, string Fingerprint)> StateAsync(TableEngine engine)
    {
        using var snapshot = engine.OpenSnapshot();
        return await StateAsync(snapshot);
    }

    private async Task<(long Count, string Fingerprint)> StateAsync(TableSnapshot snapshot)
    {
        var files = new List<string>();
        foreach (var add in snapshot.Delta.Files) files.Add(await Kit.Objects.GetLocalPathAsync(snapshot.Delta.ObjectPath(add)));
        const string cols = "id, duration";
        var delta = files.Count == 0 ? "" : $" UNION ALL SELECT {cols} FROM read_parquet([{string.Join(", ", files.Select(SqlNames.Literal))}])";
        using var cmd = snapshot.Buffer.Connection.CreateCommand();
        cmd.CommandText = $"SELECT count(*), string_agg(id || ':' || duration, ',' ORDER BY id) FROM (SELECT {cols} FROM {snapshot.Buffer.Relation}{delta})";
        using var reader = cmd.ExecuteReader();
        Assert.True(reader.Read());
        return (reader.GetInt64(0), reader.GetString(1));
    }

    /// <summary>The rows the whole block leaves, worked out by hand.</summary>
    private static string Expected()
    {
        var rows = new List<(string Id, long Duration)>();
        rows.AddRange(Enumerable.Range(0, 100).Select(i => ($"a-{i}", (long)i)));
        rows.Add(("z-0", 7003));
        rows.AddRange(Enumerable.Range(0, 10).Select(i => ($"b-{i}", 1000L + i)));
        rows = rows.Select(r => r.Duration % 10 == 0 ? (r.Id, r.Duration + 1) : r).ToList();
        rows.AddRange(Enumerable.Range(0, 10).Select(i => ($"c-{i}", 5000L + i)));
        rows = rows.Where(r => r.Duration % 10 != 1).ToList();
        rows.AddRange(Enumerable.Range(0, 10).Select(i => ($"d-{i}", 9000L + i)));
        return string.Join(",", rows.OrderBy(r => r.Id, StringComparer.Ordinal).Select(r => $"{r.Id}:{r.Duration}"));
    }

    /// <summary>Reopens twice: both times the expected rows, and the second opening commits nothing more to Delta.</summary>
    private async Task AssertWholeBlockAfterReopeningAsync(TableId id)
    {
        long? version = null;
        for (var i = 0; i < 2; i++)
        {
            await using var engine = await Kit.OpenAsync(id);
            var (count, fingerprint) = await StateAsync(engine);
            Assert.Equal(Expected(), fingerprint);
            Assert.Equal(108, count);
            if (version is not null) Assert.Equal(version, engine.DeltaSnapshot.Version);
            version = engine.DeltaSnapshot.Version;
        }
    }

    [Fact]
    public async Task A_block_applied_live_shows_every_step_in_order_and_replays_to_the_same_rows_once()
    {
        var id = new TableId("txn-live", "events");
        await LoadAsync(id);
        await using (var engine = await Kit.OpenAsync(id))
        {
            var before = engine.AppliedThroughLsn;
            // b 10 + updated 10 a + 1 b + c 10 + deleted (a: 10 + 10 updated, b: 2, c: 1) + d 10.
            Assert.Equal(10 + 11 + 10 + 23 + 10, await engine.CommitBlockAsync(Block()));
            Assert.Equal(before + 1, engine.AppliedThroughLsn); // one WAL entry
            Assert.Equal(Expected(), (await StateAsync(engine)).Fingerprint);
        }
        await AssertWholeBlockAfterReopeningAsync(id);
    }

    [Fact]
    public async Task A_reader_waits_for_a_block_being_applied_and_then_sees_all_of_it()
    {
        var id = new TableId("txn-reader", "events");
        await LoadAsync(id);
        await using var engine = await Kit.OpenAsync(id);
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var appends = 0;
        // Held before the block's second insert: its first insert and the UPDATE are applied, the rest is not.
        engine.BeforeBufferAppend = async (_, _) =>
        {
            if (++appends != 2) return;
            paused.TrySetResult();
            await resume.Task;
        };
        var commit = engine.CommitBlockAsync(Block());
        await paused.Task.WaitAsync(TimeSpan.FromSeconds(60));

        // Outside a block a snapshot is taken at once (synchronously); here it must wait for the rest of the block.
        var reading = engine.OpenSnapshotAsync().AsTask();
        Assert.False(reading.IsCompleted, "a snapshot was taken in the middle of a transaction block");
        resume.SetResult();
        await commit;
        using var snapshot = await reading.WaitAsync(TimeSpan.FromSeconds(60));
        var (count, fingerprint) = await StateAsync(snapshot);
        Assert.Equal(108, count);
        Assert.Equal(Expected(), fingerprint);
        // And with no block applying, at once.
        var now = engine.OpenSnapshotAsync();
        Assert.True(now.IsCompleted);
        (await now).Dispose();
    }

    [Fact]
    public async Task A_logged_entry_whose_commit_record_is_present_replays_every_step_in_order()
    {
        var id = new TableId("txn-logged", "events");
        await LoadAsync(id);
        await AppendLoggedAsync(id); // the server died right after logging it: nothing applied yet
        await AssertWholeBlockAfterReopeningAsync(id);
    }

    [Fact]
    public async Task A_block_cut_off_part_way_through_applying_replays_the_rest_exactly_once()
    {
        var id = new TableId("txn-partway", "events");
        await LoadAsync(id);
        await using (var engine = await Kit.OpenAsync(id))
        {
            var before = engine.AppliedThroughLsn;
            var appends = 0;
            // The second insert of the block fails: the UPDATE's Delta side has landed, the DELETE has not run.
            engine.BeforeBufferAppend = (_, _) => ++appends == 2 ? throw new IOException("disk gone") : Task.CompletedTask;
            await Assert.ThrowsAsync<TableFaultedException>(() => engine.CommitBlockAsync(Block()));
            Assert.Equal(before + 1, engine.DeltaSnapshot.TxnVersion(engine.DmlAppId));
            Assert.Equal(1, engine.DeltaSnapshot.TxnVersion(engine.DmlStepAppId));
        }
        await AssertWholeBlockAfterReopeningAsync(id);
        await using var reopened = await Kit.OpenAsync(id);
        Assert.Equal(2, reopened.DeltaSnapshot.TxnVersion(reopened.DmlStepAppId));
    }

    [Fact]
    public async Task A_logged_entry_whose_commit_record_is_missing_applies_nothing()
    {
        var id = new TableId("txn-torn", "events");
        await LoadAsync(id);
        long before;
        await using (var engine = await Kit.OpenAsync(id))
            before = engine.AppliedThroughLsn;
        await AppendLoggedAsync(id);
        // The entry is one frame, its CRC the commit record: cut short (the server died while writing it), it is a torn tail.
        var segment = WalFiles.Segments(Path.Combine(Root, "wal"), id)[^1];
        await using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
            file.SetLength(file.Length - 7);
        await using (var engine = await Kit.OpenAsync(id))
        {
            var (count, fingerprint) = await StateAsync(engine);
            Assert.Equal(101, count);
            Assert.Equal(string.Join(",", Enumerable.Range(0, 100).Select(i => (Id: $"a-{i}", D: i)).Append((Id: "z-0", D: 7003)).OrderBy(r => r.Id, StringComparer.Ordinal)
                .Select(r => $"{r.Id}:{r.D}")), fingerprint);
            Assert.Equal(before, engine.AppliedThroughLsn);
            Assert.Null(engine.DeltaSnapshot.TxnVersion(engine.DmlAppId));
            // The table goes on: the block committed again applies whole.
            await engine.CommitBlockAsync(Block());
        }
        await AssertWholeBlockAfterReopeningAsync(id);
    }
}
