using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Engine;

/// <summary>A fresh <see cref="EngineTestKit"/> in a temporary folder per test, disposed after it.</summary>
public abstract class EngineTestBase : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();

    /// <summary>The test's folder (engines reopened on it see the same WAL and Delta tables).</summary>
    protected string Root => _dir.Path;

    /// <summary>The kit: buffer database, local stores, options.</summary>
    protected EngineTestKit Kit { get; private set; } = null!;

    /// <summary>The kit's buffer options; null for the kit's defaults.</summary>
    protected virtual TimeFusion.Buffer.BufferOptions? KitBuffer => null;

    public virtual Task InitializeAsync()
    {
        Kit = new EngineTestKit(_dir.Path, KitBuffer);
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        await Kit.DisposeAsync();
        _dir.Dispose();
    }
}
