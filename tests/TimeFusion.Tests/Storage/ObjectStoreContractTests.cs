using System.Text;
using TimeFusion.Storage;

namespace TimeFusion.Tests.Storage;

/// <summary>The behaviour every <see cref="IObjectStore"/> must have, run against each implementation.</summary>
public abstract class ObjectStoreContractTests
{
    protected abstract Task<IObjectStore> CreateStoreAsync();

    private static ReadOnlyMemory<byte> Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Put_read_list_delete_round_trip()
    {
        var store = await CreateStoreAsync();
        await store.PutAsync("t/_delta_log/00000000000000000000.json", Bytes("a"));
        await store.PutAsync("t/date=2026-01-01/part-1.parquet", Bytes("bb"));
        await store.PutAsync("t/_delta_log/00000000000000000000.json", Bytes("ccc")); // replace
        Assert.Equal("ccc", Encoding.UTF8.GetString(await store.ReadAllAsync("t/_delta_log/00000000000000000000.json")));

        var listed = await store.ListAsync("t/");
        Assert.Equal(["t/_delta_log/00000000000000000000.json", "t/date=2026-01-01/part-1.parquet"], listed.Select(o => o.Path));
        Assert.Equal([3L, 2L], listed.Select(o => o.Size));
        Assert.Single(await store.ListAsync("t/_delta_log/"));
        Assert.Empty(await store.ListAsync("nothing/"));

        await using (var s = await store.OpenReadAsync("t/date=2026-01-01/part-1.parquet"))
        using (var r = new StreamReader(s))
            Assert.Equal("bb", await r.ReadToEndAsync());

        await store.DeleteAsync("t/date=2026-01-01/part-1.parquet");
        await store.DeleteAsync("t/date=2026-01-01/part-1.parquet"); // absent: not an error
        Assert.False(await store.ExistsAsync("t/date=2026-01-01/part-1.parquet"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.ReadAllAsync("t/date=2026-01-01/part-1.parquet"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.GetLocalPathAsync("t/missing"));
    }

    [Fact]
    public async Task Put_if_absent_lets_exactly_one_of_many_racing_writers_win()
    {
        var store = await CreateStoreAsync();
        for (var round = 0; round < 5; round++)
        {
            var path = $"log/{round:D20}.json";
            var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => store.PutIfAbsentAsync(path, Bytes($"writer-{i}")))));
            Assert.Equal(1, results.Count(r => r));
            var winner = Array.IndexOf(results, true);
            Assert.Equal($"writer-{winner}", Encoding.UTF8.GetString(await store.ReadAllAsync(path)));
        }
        Assert.Equal(5, (await store.ListAsync("log/")).Count); // no temporary files left visible
    }

    [Fact]
    public async Task Upload_file_and_local_path_return_the_same_bytes()
    {
        var store = await CreateStoreAsync();
        using var dir = new Infrastructure.TempDirectory();
        var local = Path.Combine(dir.Path, "f.bin");
        var data = new byte[300_000];
        new Random(7).NextBytes(data);
        await File.WriteAllBytesAsync(local, data);
        await store.UploadFileAsync("p/f.bin", local);
        var path = await store.GetLocalPathAsync("p/f.bin");
        Assert.Equal(data, await File.ReadAllBytesAsync(path));
        Assert.Equal(path, await store.GetLocalPathAsync("p/f.bin")); // cached or the file itself
    }

    [Fact]
    public async Task An_adopted_file_replaces_the_object_and_is_gone_locally()
    {
        var store = await CreateStoreAsync();
        using var dir = new Infrastructure.TempDirectory();
        await store.PutAsync("p/f.parquet", Bytes("old"));
        var local = Path.Combine(dir.Path, "f.parquet");
        var data = new byte[300_000];
        new Random(8).NextBytes(data);
        await File.WriteAllBytesAsync(local, data);

        await store.AdoptFileAsync("p/f.parquet", local);

        Assert.False(File.Exists(local));
        Assert.Equal(data, await File.ReadAllBytesAsync(await store.GetLocalPathAsync("p/f.parquet")));
        Assert.Equal(["p/f.parquet"], (await store.ListAsync("p/")).Select(o => o.Path)); // no temporary file left visible
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../b")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    public async Task Paths_that_escape_the_root_are_refused(string path)
    {
        var store = await CreateStoreAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(path, Bytes("x")));
    }
}

public sealed class LocalObjectStoreTests : ObjectStoreContractTests, IDisposable
{
    private readonly Infrastructure.TempDirectory _dir = new();

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult<IObjectStore>(new LocalObjectStore(Path.Combine(_dir.Path, Guid.NewGuid().ToString("N"))));

    public void Dispose() => _dir.Dispose();
}
