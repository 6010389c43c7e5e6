using Azure.Storage.Blobs;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Engine;
using TimeFusion.Hosting;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.ClusterMode;

/// <summary>
/// Two owners of one table on Azure storage, as when a paused silo comes back after its grains moved: the new owner
/// sees every row the old one acknowledged; the old owner's next Delta commit and next WAL append are refused
/// (40001), never interleaved; a third opener finds every row exactly once.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class OwnershipFencingTests(AzuriteFixture azurite)
{
    private static readonly TableId Id = new("fenced", "events");

    [Fact]
    public async Task A_previous_owner_can_neither_commit_nor_append_after_a_new_owner_opened_the_table()
    {
        using var directory = new TempDirectory();
        var servicesOn = await SharedStorageAsync(directory);

        // One buffer database per "silo".
        await using var siloA = BufferDatabase.Open(SmallBuffer());
        await using var siloB = BufferDatabase.Open(SmallBuffer());
        await using var siloC = BufferDatabase.Open(SmallBuffer());

        var old = await TableEngine.OpenAsync(Id, EngineTestKit.Schema, servicesOn(siloA, "a"));
        await old.InsertAsync(EngineTestKit.Rows("flushed", 100));
        await old.FlushAsync();
        await old.InsertAsync(EngineTestKit.Rows("logged", 50)); // in the WAL only

        // The table moves while the old owner still runs.
        var servicesB = servicesOn(siloB, "b");
        await using var next = await TableEngine.OpenAsync(Id, EngineTestKit.Schema, servicesB);
        Assert.Equal((150L, 150L), await CountAsync(next, servicesB.Objects));

        // The old owner's flush: its Delta commit conflicts on the table's txn, which the new owner re-committed.
        var commit = await Assert.ThrowsAsync<DeltaConcurrentCommitException>(() => old.FlushAsync());
        Assert.Equal(TimeFusion.Wire.SqlState.SerializationFailure, SqlStateOf(commit));
        // Its append: the WAL segment's lease was broken and taken by the new owner.
        var append = await Assert.ThrowsAnyAsync<Exception>(() => old.InsertAsync(EngineTestKit.Rows("stale", 10)));
        Assert.Equal(TimeFusion.Wire.SqlState.SerializationFailure, SqlStateOf(append));
        Assert.True(old.IsFaulted);
        await old.DisposeAsync();

        await next.InsertAsync(EngineTestKit.Rows("after", 20));
        await next.FlushAsync();
        await next.InsertAsync(EngineTestKit.Rows("tail", 5));

        // A third owner reads the WAL and the Delta log back: every acknowledged row once, nothing of the stale writes.
        var servicesC = servicesOn(siloC, "c");
        await using var third = await TableEngine.OpenAsync(Id, EngineTestKit.Schema, servicesC);
        Assert.Equal((175L, 175L), await CountAsync(third, servicesC.Objects));
    }

    [Fact]
    public async Task Writes_in_flight_on_the_previous_owner_while_a_new_owner_takes_over_are_refused_only_retryably()
    {
        using var directory = new TempDirectory();
        var servicesOn = await SharedStorageAsync(directory);
        await using var siloA = BufferDatabase.Open(SmallBuffer());
        await using var siloB = BufferDatabase.Open(SmallBuffer());

        var old = await TableEngine.OpenAsync(Id, EngineTestKit.Schema, servicesOn(siloA, "a"));
        await old.InsertAsync(EngineTestKit.Rows("first", 10));
        // Writers and flushes keep going on the old owner while the new one opens the table (as a thawed silo's do).
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    if (w == 0) await old.FlushAsync();
                    else await old.InsertAsync(EngineTestKit.Rows($"w{w}-{n}", 5));
                }
                catch (Exception e)
                {
                    failures.Add(e);
                    if (old.IsFaulted && failures.Count > 30) return;
                }
            }
        })).ToList();
        await using (var next = await OpenRetryingAsync(() => TableEngine.OpenAsync(Id, EngineTestKit.Schema, servicesOn(siloB, "b"))))
        {
            // Polled: the old owner's writers run into the new owner's lease and commit.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!old.IsFaulted && DateTime.UtcNow < deadline) await Task.Delay(20);
            stop.Cancel();
            await Task.WhenAll(writers);
        }
        await old.DisposeAsync();

        Assert.True(old.IsFaulted, "the previous owner was never fenced");
        Assert.NotEmpty(failures);
        var unretryable = failures.Where(e => ExceptionTranslationFilter.Translate(e) is not { IsRetryable: true })
            .Select(e => $"{e.GetType().Name}: {e.Message}").Distinct().ToList();
        Assert.True(unretryable.Count == 0, "refused without a retryable SQLSTATE: " + string.Join(" | ", unretryable));
    }

    /// <summary>
    /// Fresh table and WAL containers on Azurite, shared by every "silo" of a test: the returned factory gives one silo's
    /// engine services (its own buffer database and local cache, the shared storage, ownership fenced).
    /// </summary>
    private async Task<Func<BufferDatabase, string, EngineServices>> SharedStorageAsync(TempDirectory directory)
    {
        var tables = new BlobContainerClient(azurite.ConnectionString, AzuriteFixture.NewContainerName());
        var wal = new BlobContainerClient(azurite.ConnectionString, AzuriteFixture.NewContainerName());
        await tables.CreateAsync();
        await wal.CreateAsync();
        var options = new EngineOptions { FenceOwnership = true };
        options.Flush.StagingDirectory = Path.Combine(directory.Path, "staging");
        return (buffer, cache) => new EngineServices(buffer,
            new AzureBlobObjectStore(tables, "svc", new LocalFileCache(Path.Combine(directory.Path, cache))),
            new AzureAppendBlobWalStorage(wal, "svc"), options);
    }

    /// <summary>
    /// Opens again while the open fails retryably, as a grain activation is retried: a previous owner's flush landing
    /// during the fence commit fails the open by design (<c>TableEngine.FenceDeltaAsync</c>), the next open reads the newer snapshot.
    /// </summary>
    private static async Task<TableEngine> OpenRetryingAsync(Func<Task<TableEngine>> open)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await open();
            }
            catch (Exception e) when (attempt < 20 && ExceptionTranslationFilter.Translate(e) is { IsRetryable: true })
            {
            }
        }
    }

    private static BufferOptions SmallBuffer() => new() { MemoryLimitBytes = 256L << 20, SoftLimitBytes = 64L << 20, HardLimitBytes = 128L << 20, Threads = 1 };

    private static string? SqlStateOf(Exception e) => ExceptionTranslationFilter.Translate(e)?.SqlState;

    private static async Task<(long Rows, long DistinctIds)> CountAsync(TableEngine engine, IObjectStore store)
    {
        using var snapshot = engine.OpenSnapshot();
        var files = new List<string>();
        foreach (var add in snapshot.Delta.Files)
            files.Add(await store.GetLocalPathAsync(snapshot.Delta.ObjectPath(add)));
        var delta = files.Count == 0
            ? ""
            : " UNION ALL SELECT id FROM read_parquet([" + string.Join(", ", files.Select(f => "'" + f.Replace("'", "''") + "'")) + "])";
        using var cmd = snapshot.Buffer.Connection.CreateCommand();
        cmd.CommandText = $"SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM {snapshot.Buffer.Relation}{delta})";
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return (Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1)));
    }
}
