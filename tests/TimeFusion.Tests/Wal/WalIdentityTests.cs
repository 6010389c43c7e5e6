using System.Text;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

public sealed class WalIdentityTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private LocalWalStorage Storage => new(_dir.Path);

    public static TheoryData<string, string> HostileNames() => new()
    {
        { "../../etc", "passwd" },
        { "/", ".." },
        { "a/b/../../c", "./x" },
        { new string('p', 5000), new string('t', 300) },
        { "プロジェクト🚀", "表/テーブル" },
        { "x-" + new string('0', 40), "..." },
        { "CON", "nul" },
        { "a\\b", "tab\tname\nnewline" },
    };

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task Any_name_maps_inside_the_root_and_round_trips(string project, string table)
    {
        var id = new TableId(project, table);
        await using (var log = await WriteAheadLog.OpenAsync(id, Storage))
        {
            await log.AppendAsync(WalOperation.Insert, Encoding.UTF8.GetBytes(project + "|" + table));
        }
        var root = Path.GetFullPath(_dir.Path) + Path.DirectorySeparatorChar;
        foreach (var file in Directory.GetFiles(_dir.Path, "*", SearchOption.AllDirectories))
        {
            Assert.StartsWith(root, Path.GetFullPath(file));
        }
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), "passwd"));
        await using var reopened = await WriteAheadLog.OpenAsync(id, Storage);
        await foreach (var e in reopened.ReadAsync(0))
        {
            Assert.Equal(project, e.Project);
            Assert.Equal(table, e.Table);
            Assert.Equal(project + "|" + table, Encoding.UTF8.GetString(e.Payload.Span));
        }
    }

    [Fact]
    public async Task Different_names_never_share_a_log()
    {
        var ids = new[] { new TableId("a", "b/c"), new TableId("a/b", "c"), new TableId("a", "b_c"), new TableId("A", "b/c") };
        foreach (var id in ids)
        {
            await using var log = await WriteAheadLog.OpenAsync(id, Storage);
            await log.AppendAsync(WalOperation.Insert, Encoding.UTF8.GetBytes(id.ToString() + id.Project.Length));
        }
        foreach (var id in ids)
        {
            await using var log = await WriteAheadLog.OpenAsync(id, Storage);
            var entries = new List<WalEntry>();
            await foreach (var e in log.ReadAsync(0)) entries.Add(e);
            Assert.Equal(id.ToString() + id.Project.Length, Encoding.UTF8.GetString(Assert.Single(entries).Payload.Span));
        }
    }

    [Fact]
    public async Task A_folder_owned_by_other_names_is_refused_as_a_hash_collision_would_be()
    {
        var mine = new TableId("project-ü", "events");
        var other = new TableId("someone else", "events");
        // Simulate a collision: the folder my names hash to already holds another table's identity and log.
        var folder = WalFiles.Folder(_dir.Path, mine);
        Directory.CreateDirectory(folder);
        await File.WriteAllBytesAsync(Path.Combine(folder, "identity.json"), WalIdentity.Serialize(other));
        var e = await Assert.ThrowsAsync<WalIdentityException>(() => WriteAheadLog.OpenAsync(mine, Storage));
        Assert.Contains("someone else", e.Message);
        Assert.Contains("project-ü", e.Message);
        Assert.Empty(Directory.GetFiles(folder, "*.wal"));
    }

    [Fact]
    public async Task An_entry_naming_another_table_is_refused_even_when_the_identity_file_matches()
    {
        var mine = new TableId("p", "t");
        await using (var log = await WriteAheadLog.OpenAsync(mine, Storage))
        {
            await log.AppendAsync(WalOperation.Insert, new byte[] { 1 });
        }
        var segment = WalFiles.Segments(_dir.Path, mine).Single();
        WalFiles.Append(segment, WalFiles.Frame(WalFiles.GoodEnvelope(2, new TableId("p", "other"), [2])));
        var e = await Assert.ThrowsAsync<WalIdentityException>(() => WriteAheadLog.OpenAsync(mine, Storage));
        Assert.Contains("'other'", e.Message);
    }

    [Fact]
    public async Task Segments_without_an_identity_file_are_not_adopted()
    {
        var id = new TableId("p", "t");
        await using (var log = await WriteAheadLog.OpenAsync(id, Storage))
        {
            await log.AppendAsync(WalOperation.Insert, new byte[] { 1 });
        }
        File.Delete(Path.Combine(WalFiles.Folder(_dir.Path, id), "identity.json"));
        await Assert.ThrowsAsync<WalIdentityException>(() => WriteAheadLog.OpenAsync(id, Storage));
    }

    [Fact]
    public async Task An_unreadable_identity_file_is_a_clear_error()
    {
        var id = new TableId("p", "t");
        var folder = WalFiles.Folder(_dir.Path, id);
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "identity.json"), "{\"format\": 1, \"project\": 5");
        var e = await Assert.ThrowsAsync<WalIdentityException>(() => WriteAheadLog.OpenAsync(id, Storage));
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void Local_storage_refuses_folder_paths_that_leave_the_root()
    {
        Assert.Throws<ArgumentException>(() => Storage.GetDirectory("wal/../../x"));
        Assert.Throws<ArgumentException>(() => Storage.GetDirectory("/etc"));
        Assert.Throws<ArgumentException>(() => Storage.GetDirectory("wal//x"));
        Assert.StartsWith("wal/x-", StoragePathNames.WalRoot(new TableId("..", "t")));
    }
}
