using TimeFusion.Dml;
using TimeFusion.Engine;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Dml;

public sealed class EngineDmlTests : EngineTestBase
{
    public enum Mode { Buffered, Flushed, Mixed }

    private static readonly TableId Id = new("proj-dml", "events");

    /// <summary>Rows a (durations 0..99) and b (1000..1099): both buffered, both flushed, or a flushed and b buffered.</summary>
    private static async Task LoadAsync(TableEngine engine, Mode mode)
    {
        await engine.InsertAsync(EngineTestKit.Rows("a", 100));
        if (mode != Mode.Buffered) await engine.FlushAsync();
        await engine.InsertAsync(EngineTestKit.Rows("b", 100, durationBase: 1000));
        if (mode == Mode.Flushed) await engine.FlushAsync();
        Assert.Equal(mode switch { Mode.Buffered => 200, Mode.Flushed => 0, _ => 100 }, engine.BufferedRows);
    }

    /// <summary>Runs a scalar query over every row a snapshot sees (buffer side plus Delta files).</summary>
    private async Task<T> ScalarAsync<T>(TableEngine engine, string selectOverRows)
    {
        using var snapshot = engine.OpenSnapshot();
        var files = new List<string>();
        foreach (var add in snapshot.Delta.Files)
            files.Add(await Kit.Objects.GetLocalPathAsync(snapshot.Delta.ObjectPath(add)));
        const string cols = "id, service, duration, hashes, project_id";
        var delta = files.Count == 0 ? "" : $" UNION ALL SELECT {cols} FROM read_parquet([{string.Join(", ", files.Select(SqlNames.Literal))}])";
        using var cmd = snapshot.Buffer.Connection.CreateCommand();
        cmd.CommandText = selectOverRows.Replace("ROWS", $"(SELECT {cols} FROM {snapshot.Buffer.Relation}{delta})");
        return (T)Convert.ChangeType(cmd.ExecuteScalar()!, typeof(T));
    }

    private Task<long> CountAsync(TableEngine engine, string where = "true") => ScalarAsync<long>(engine, $"SELECT count(*) FROM ROWS WHERE {where}");

    private const string Fingerprint = "SELECT hash(count(*), sum(duration), string_agg(id || ':' || coalesce(service, '-') || ':' || duration || ':' || hashes::VARCHAR, ',' ORDER BY id))::VARCHAR FROM ROWS";

    /// <summary>
    /// Reopens twice: the count matches, no id is doubled, and both reopenings see exactly the same rows and values and
    /// commit nothing to Delta (a DML whose Delta side landed is not applied again — e.g. duration * 2 twice).
    /// </summary>
    private async Task AssertReopenedTwiceAsync(Action<long> checkCount, string where = "true")
    {
        string? fingerprint = null;
        long? version = null;
        for (var i = 0; i < 2; i++)
        {
            await using var engine = await Kit.OpenAsync(Id);
            checkCount(await CountAsync(engine, where));
            Assert.Equal(await CountAsync(engine), await ScalarAsync<long>(engine, "SELECT count(DISTINCT id) FROM ROWS"));
            var now = await ScalarAsync<string>(engine, Fingerprint);
            if (fingerprint is not null) Assert.Equal(fingerprint, now);
            if (version is not null) Assert.Equal(version, engine.DeltaSnapshot.Version);
            (fingerprint, version) = (now, engine.DeltaSnapshot.Version);
        }
    }

    [Theory]
    [InlineData(Mode.Buffered)]
    [InlineData(Mode.Flushed)]
    [InlineData(Mode.Mixed)]
    public async Task Delete_with_a_predicate_removes_exactly_the_matching_rows_and_survives_reopening(Mode mode)
    {
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await LoadAsync(engine, mode);
            var filesBefore = engine.DeltaSnapshot.Files.Count;
            Assert.Equal(20, await engine.DeleteAsync("duration % 10 = 0"));
            Assert.Equal(180, await CountAsync(engine));
            Assert.Equal(0, await CountAsync(engine, "duration % 10 = 0"));
            if (mode != Mode.Buffered)
            {
                Assert.Equal(filesBefore, engine.DeltaSnapshot.Files.Count); // each rewritten file replaced by one
                Assert.NotNull(engine.DeltaSnapshot.TxnVersion(engine.DmlAppId));
                Assert.Equal(engine.AppliedThroughLsn, engine.DeltaSnapshot.TxnVersion(engine.DmlAppId));
                Assert.All(engine.DeltaSnapshot.Files, f => Assert.True(f.GetStats()!.NumRecords > 0));
            }
            // Matching rows inserted after the DML are not affected by it.
            await engine.InsertAsync(EngineTestKit.Rows("c", 10, durationBase: 5000));
            Assert.Equal(1, await CountAsync(engine, "duration % 10 = 0"));
        }
        await AssertReopenedTwiceAsync(n => Assert.Equal(190, n));
    }

    [Theory]
    [InlineData(Mode.Buffered)]
    [InlineData(Mode.Flushed)]
    [InlineData(Mode.Mixed)]
    public async Task Delete_without_a_predicate_removes_every_row(Mode mode)
    {
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await LoadAsync(engine, mode);
            Assert.Equal(200, await engine.DeleteAsync(null));
            Assert.Equal(0, await CountAsync(engine));
            Assert.Empty(engine.DeltaSnapshot.Files);
            Assert.Equal(0, await engine.DeleteAsync(null));
        }
        await AssertReopenedTwiceAsync(n => Assert.Equal(0, n));
    }

    [Theory]
    [InlineData(Mode.Buffered)]
    [InlineData(Mode.Flushed)]
    [InlineData(Mode.Mixed)]
    public async Task Update_changes_string_and_list_columns_of_matching_rows_only(Mode mode)
    {
        const string changed = "service = 'changed' AND hashes = ['x', 'y''s'] AND duration % 10 = 1";
        string before;
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await LoadAsync(engine, mode);
            var sumBefore = await ScalarAsync<long>(engine, "SELECT sum(duration)::BIGINT FROM ROWS");
            var affected = await engine.UpdateAsync("duration % 10 = 1",
                [new("service", "'changed'"), new("hashes", "['x', 'y''s']"), new("duration", "duration + 0")]);
            Assert.Equal(20, affected);
            Assert.Equal(20, await CountAsync(engine, changed));
            Assert.Equal(20, await CountAsync(engine, "service = 'changed'"));
            Assert.Equal(200, await CountAsync(engine));
            Assert.Equal(sumBefore, await ScalarAsync<long>(engine, "SELECT sum(duration)::BIGINT FROM ROWS"));
            // Other rows keep their values (row a-2: service svc-2, hashes [h2]).
            Assert.Equal(1, await CountAsync(engine, "id = 'a-2' AND service = 'svc-2' AND hashes = ['h2']"));
            // An expression over the old values.
            Assert.Equal(10, await engine.UpdateAsync("id LIKE 'b-%' AND duration % 10 = 1", [new("duration", "duration * 2")]));
            Assert.Equal(10, await CountAsync(engine, "id LIKE 'b-%' AND duration % 10 = 2 AND duration > 2000"));
            before = await ScalarAsync<string>(engine, Fingerprint);
        }
        await using (var engine = await Kit.OpenAsync(Id))
            Assert.Equal(before, await ScalarAsync<string>(engine, Fingerprint));
        await AssertReopenedTwiceAsync(n => Assert.Equal(20, n), "service = 'changed' AND hashes = ['x', 'y''s']");
        await AssertReopenedTwiceAsync(n => Assert.Equal(10, n), "id LIKE 'b-%' AND duration > 2000");
    }

    [Theory]
    [InlineData(Mode.Buffered, "no_such_column = 1")]
    [InlineData(Mode.Flushed, "no_such_column = 1")]
    [InlineData(Mode.Mixed, "duration = 'not a number'")]
    [InlineData(Mode.Mixed, "true) OR (true")]
    [InlineData(Mode.Mixed, "true; DELETE FROM x")]
    [InlineData(Mode.Mixed, "count(*) > 1")]
    [InlineData(Mode.Flushed, "'unterminated")]
    public async Task Bad_sql_is_refused_before_anything_is_logged_or_changed(Mode mode, string predicate)
    {
        await using var engine = await Kit.OpenAsync(Id);
        await LoadAsync(engine, mode);
        var lsn = engine.AppliedThroughLsn;
        var version = engine.DeltaSnapshot.Version;
        await Assert.ThrowsAsync<DmlRejectedException>(() => engine.DeleteAsync(predicate));
        await Assert.ThrowsAsync<DmlRejectedException>(() => engine.UpdateAsync(predicate, [new("service", "'x'")]));
        Assert.Equal(lsn, engine.AppliedThroughLsn);
        Assert.Equal(version, engine.DeltaSnapshot.Version);
        Assert.Equal(200, await CountAsync(engine));
        Assert.Equal(lsn + 1, await engine.InsertAsync(EngineTestKit.Rows("c", 1))); // no LSN was used
    }

    [Theory]
    [InlineData(Mode.Buffered)]
    [InlineData(Mode.Flushed)]
    public async Task Bad_assignments_are_refused_before_anything_is_logged(Mode mode)
    {
        await using var engine = await Kit.OpenAsync(Id);
        await LoadAsync(engine, mode);
        var lsn = engine.AppliedThroughLsn;
        foreach (var column in new[] { "timestamp", "date", "project_id" })
        {
            var e = await Assert.ThrowsAsync<DmlRejectedException>(() => engine.UpdateAsync(null, [new(column, "NULL")]));
            Assert.Contains(column, e.Message);
        }
        await Assert.ThrowsAsync<DmlRejectedException>(() => engine.UpdateAsync(null, [new("nope", "1")]));
        await Assert.ThrowsAsync<DmlRejectedException>(() => engine.UpdateAsync(null, [new("service", "'a'"), new("service", "'b'")]));
        await Assert.ThrowsAsync<DmlRejectedException>(() => engine.UpdateAsync(null, []));
        await Assert.ThrowsAsync<DmlRejectedException>(() => engine.UpdateAsync(null, [new("service", "'a') , (1")]));
        // Fails only when evaluated on the rows: the cast of a non-number to BIGINT.
        await Assert.ThrowsAsync<DmlRejectedException>(() => engine.UpdateAsync("duration = 5", [new("duration", "'five'")]));
        // NOT NULL column set to NULL.
        await Assert.ThrowsAsync<DmlRejectedException>(() => engine.UpdateAsync(null, [new("id", "NULL")]));
        await Assert.ThrowsAsync<DmlRejectedException>(() => engine.UpdateAsync(null, [new("id", "NULLIF(id, 'b-7')")]));
        Assert.Equal(lsn, engine.AppliedThroughLsn);
        Assert.Equal(200, await CountAsync(engine, "service IS DISTINCT FROM 'a'"));
        Assert.Equal(200, await CountAsync(engine, "id IS NOT NULL"));
    }

    [Fact]
    public async Task A_logged_dml_whose_delta_side_never_ran_is_applied_once_on_reopening()
    {
        await using (var engine = await Kit.OpenAsync(Id))
            await LoadAsync(engine, Mode.Mixed);
        // Like a crash right after the WAL append: the entry is logged, nothing applied.
        await using (var wal = await WriteAheadLog.OpenAsync(Id, Kit.Wal, Kit.Options.Wal))
            await wal.AppendDmlAsync(WalOperation.Delete, new DmlRecord("duration % 10 = 3", []));
        for (var i = 0; i < 2; i++)
        {
            await using var engine = await Kit.OpenAsync(Id);
            Assert.Equal(180, await CountAsync(engine));
            Assert.Equal(0, await CountAsync(engine, "duration % 10 = 3"));
            Assert.Equal(3, engine.DeltaSnapshot.TxnVersion(engine.DmlAppId)); // LSNs 1, 2 inserts; 3 the delete
        }
        // A flush moves the flush txn past the DML: it is not replayed again, and nothing comes back.
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await engine.FlushAsync();
            Assert.Equal(0, engine.BufferedRows);
        }
        await using (var engine = await Kit.OpenAsync(Id))
        {
            Assert.Equal(0, engine.Recovery.ReplayedEntries);
            Assert.Equal(180, await CountAsync(engine));
        }
    }

    [Fact]
    public async Task Dml_racing_with_inserts_and_flushes_stays_consistent()
    {
        long inserted = 0, deleted = 0;
        await using (var engine = await Kit.OpenAsync(Id))
        {
            var done = false;
            var writer = Task.Run(async () =>
            {
                for (var k = 0; k < 30; k++)
                {
                    await engine.InsertAsync(EngineTestKit.Rows($"w{k}", 50, durationBase: k * 1000));
                    Interlocked.Add(ref inserted, 50);
                }
                Volatile.Write(ref done, true);
            });
            var flusher = Task.Run(async () =>
            {
                while (!Volatile.Read(ref done))
                    await engine.FlushAsync();
            });
            var dml = Task.Run(async () =>
            {
                while (!Volatile.Read(ref done))
                {
                    Interlocked.Add(ref deleted, await engine.DeleteAsync("duration % 7 = 0"));
                    await engine.UpdateAsync("duration % 7 = 1", [new("service", "'seven'")]);
                }
            });
            await Task.WhenAll(writer, flusher, dml);
            deleted += await engine.DeleteAsync("duration % 7 = 0");
            var updated = await engine.UpdateAsync("duration % 7 = 1", [new("service", "'seven'")]);

            Assert.Equal(inserted - deleted, await CountAsync(engine));
            Assert.Equal(inserted - deleted, await ScalarAsync<long>(engine, "SELECT count(DISTINCT id) FROM ROWS"));
            Assert.Equal(0, await CountAsync(engine, "duration % 7 = 0"));
            Assert.Equal(updated, await CountAsync(engine, "duration % 7 = 1"));
            Assert.Equal(updated, await CountAsync(engine, "service = 'seven'"));
        }
        var expected = inserted - deleted;
        await AssertReopenedTwiceAsync(n => Assert.Equal(expected, n));
        await AssertReopenedTwiceAsync(n => Assert.Equal(0, n), "duration % 7 = 0");
    }
}

public sealed class EngineDmlSnapshotTests : EngineTestBase
{
    private static readonly TableId Id = new("proj-dml-snap", "events");

    [Fact]
    public async Task A_snapshot_sees_a_dml_on_both_sides_or_on_neither()
    {
        await using var engine = await Kit.OpenAsync(Id);
        await engine.InsertAsync(EngineTestKit.Rows("a", 200));
        await engine.FlushAsync();
        await engine.InsertAsync(EngineTestKit.Rows("b", 200, durationBase: 1000));
        await engine.UpdateAsync(null, [new("service", "'start'")]);
        var done = false;
        var updater = Task.Run(async () =>
        {
            try
            {
                for (var k = 0; k < 15; k++)
                    Assert.Equal(400, await engine.UpdateAsync(null, [new("service", $"'v{k}'")]));
            }
            finally
            {
                Volatile.Write(ref done, true);
            }
        });
        var snapshots = 0;
        while (!Volatile.Read(ref done))
        {
            using var s = engine.OpenSnapshot();
            var files = new List<string>();
            foreach (var add in s.Delta.Files)
                files.Add(await Kit.Objects.GetLocalPathAsync(s.Delta.ObjectPath(add)));
            var delta = files.Count == 0 ? "" : $" UNION ALL SELECT service FROM read_parquet([{string.Join(", ", files.Select(SqlNames.Literal))}])";
            var distinct = Convert.ToInt64(s.Buffer.QueryScalar($"SELECT count(DISTINCT coalesce(service, '-')) FROM (SELECT service FROM {s.Buffer.Relation}{delta})"));
            Assert.Equal(1, distinct);
            snapshots++;
        }
        await updater;
        Assert.True(snapshots > 0);
    }
}
