using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

/// <summary>Measures process-wide allocations, so it runs alone (no other test allocating at the same time).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialAllocationCollection
{
    public const string Name = "serial-allocation";
}

[Collection(SerialAllocationCollection.Name)]
public sealed class WalAllocationTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-a", "events");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(0xFFFFFFF0u)]
    [InlineData(200u * 1024 * 1024)] // under the 256 MiB cap but far past the end of the file
    [InlineData(3u)] // below the minimum
    public async Task An_absurd_length_at_the_tail_is_cut_without_allocating_or_reading_it(uint length)
    {
        var storage = new ReadRecordingStorage(new LocalWalStorage(_dir.Path));
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            for (var i = 0; i < 3; i++) await log.AppendAsync(WalOperation.Insert, new byte[100 + i]);
        }
        var segment = WalFiles.Segments(_dir.Path, Id).Single();
        var goodLength = new FileInfo(segment).Length;
        var header = new byte[8 + 100];
        BitConverter.TryWriteBytes(header, length);
        WalFiles.Append(segment, header);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        await using (var log = await WriteAheadLog.OpenAsync(Id, storage))
        {
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.True(allocated < 16L * 1024 * 1024, $"{allocated} bytes allocated while opening");
            var torn = log.RecoveryStats.TornTail!;
            Assert.Equal(goodLength, torn.Position);
            Assert.Contains(length.ToString(), torn.Reason);
            Assert.Equal(3, log.LastLsn);
        }
        Assert.Equal(goodLength, new FileInfo(segment).Length);
        Assert.InRange(storage.LargestRead, 1, goodLength + header.Length);
    }

    /// <summary>Records the largest read asked of the storage.</summary>
    private sealed class ReadRecordingStorage(IWalStorage inner) : IWalStorage
    {
        private long _largest;

        public long LargestRead => Interlocked.Read(ref _largest);

        public string Describe => inner.Describe;

        public IWalDirectory GetDirectory(string relativePath) => new Directory(this, inner.GetDirectory(relativePath));

        private sealed class Directory(ReadRecordingStorage owner, IWalDirectory inner) : IWalDirectory
        {
            public string Describe => inner.Describe;
            public Task<IReadOnlyList<WalFileInfo>> ListAsync(CancellationToken ct) => inner.ListAsync(ct);
            public Task<byte[]?> ReadSmallFileAsync(string name, int maxBytes, CancellationToken ct) => inner.ReadSmallFileAsync(name, maxBytes, ct);
            public Task<bool> CreateFileAsync(string name, ReadOnlyMemory<byte> content, CancellationToken ct) => inner.CreateFileAsync(name, content, ct);
            public async Task<IWalSegmentReader> OpenReadAsync(string name, CancellationToken ct) => new Reader(owner, await inner.OpenReadAsync(name, ct));
            public Task<IWalSegmentWriter> CreateSegmentAsync(string name, WalOptions options, CancellationToken ct) => inner.CreateSegmentAsync(name, options, ct);
            public Task<IWalSegmentWriter?> OpenAppendAsync(string name, long validLength, WalOptions options, CancellationToken ct) => inner.OpenAppendAsync(name, validLength, options, ct);
            public Task DeleteAsync(string name, CancellationToken ct) => inner.DeleteAsync(name, ct);
        }

        private sealed class Reader(ReadRecordingStorage owner, IWalSegmentReader inner) : IWalSegmentReader
        {
            public ValueTask ReadExactlyAsync(long position, Memory<byte> buffer, CancellationToken ct)
            {
                long seen;
                while ((seen = Interlocked.Read(ref owner._largest)) < buffer.Length && Interlocked.CompareExchange(ref owner._largest, buffer.Length, seen) != seen)
                {
                }
                return inner.ReadExactlyAsync(position, buffer, ct);
            }

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
