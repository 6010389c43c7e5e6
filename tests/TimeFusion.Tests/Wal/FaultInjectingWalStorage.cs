using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

/// <summary>
/// Wraps a WAL storage to count writes and fsyncs and to make chosen operations fail with an <see cref="IOException"/>
/// (a write can also be made to write only its first half before failing, like a torn write).
/// </summary>
public sealed class FaultInjectingWalStorage(IWalStorage inner) : IWalStorage
{
    private int _flushes;
    private int _writes;

    public int Flushes => Volatile.Read(ref _flushes);

    public int Writes => Volatile.Read(ref _writes);

    public volatile bool FailWrites;
    public volatile bool TearWrites;
    public volatile bool FailFlushes;
    public volatile bool FailCreates;
    public volatile bool FailDeletes;

    /// <summary>When set, every segment fsync waits for this gate (one release per fsync) before it runs.</summary>
    public SemaphoreSlim? FlushGate { get; set; }

    public string Describe => "faulty:" + inner.Describe;

    public IWalDirectory GetDirectory(string relativePath) => new Directory(this, inner.GetDirectory(relativePath));

    private sealed class Directory(FaultInjectingWalStorage owner, IWalDirectory inner) : IWalDirectory
    {
        public string Describe => inner.Describe;

        public Task<IReadOnlyList<WalFileInfo>> ListAsync(CancellationToken ct) => inner.ListAsync(ct);

        public Task<byte[]?> ReadSmallFileAsync(string name, int maxBytes, CancellationToken ct) => inner.ReadSmallFileAsync(name, maxBytes, ct);

        public Task<bool> CreateFileAsync(string name, ReadOnlyMemory<byte> content, CancellationToken ct) => inner.CreateFileAsync(name, content, ct);

        public Task<IWalSegmentReader> OpenReadAsync(string name, CancellationToken ct) => inner.OpenReadAsync(name, ct);

        public async Task<IWalSegmentWriter> CreateSegmentAsync(string name, WalOptions options, CancellationToken ct)
        {
            if (owner.FailCreates) throw new IOException("injected: create segment failed");
            return new Writer(owner, await inner.CreateSegmentAsync(name, options, ct));
        }

        public async Task<IWalSegmentWriter?> OpenAppendAsync(string name, long validLength, WalOptions options, CancellationToken ct) =>
            await inner.OpenAppendAsync(name, validLength, options, ct) is { } w ? new Writer(owner, w) : null;

        public Task DeleteAsync(string name, CancellationToken ct)
        {
            if (owner.FailDeletes) throw new IOException("injected: delete failed");
            return inner.DeleteAsync(name, ct);
        }
    }

    private sealed class Writer(FaultInjectingWalStorage owner, IWalSegmentWriter inner) : IWalSegmentWriter
    {
        public string Name => inner.Name;

        public long Length => inner.Length;

        public bool CanAppend(long bytes) => inner.CanAppend(bytes);

        public async ValueTask AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken ct)
        {
            Interlocked.Increment(ref owner._writes);
            if (owner.TearWrites)
            {
                var all = buffers.SelectMany(b => b.ToArray()).ToArray();
                await inner.AppendAsync([all.AsMemory(0, all.Length / 2)], ct);
                throw new IOException("injected: torn write");
            }
            if (owner.FailWrites) throw new IOException("injected: write failed");
            await inner.AppendAsync(buffers, ct);
        }

        public async ValueTask FlushAsync(CancellationToken ct)
        {
            if (owner.FlushGate is { } gate) await gate.WaitAsync(ct);
            Interlocked.Increment(ref owner._flushes);
            if (owner.FailFlushes) throw new IOException("injected: fsync failed");
            await inner.FlushAsync(ct);
        }

        public ValueTask PrepareAsync(long expectedGroupBytes, CancellationToken ct) => inner.PrepareAsync(expectedGroupBytes, ct);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
