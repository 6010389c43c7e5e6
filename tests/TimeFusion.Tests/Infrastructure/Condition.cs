namespace TimeFusion.Tests.Infrastructure;

/// <summary>Waiting for a condition another thread makes true (a real condition, never a fixed sleep).</summary>
public static class Condition
{
    /// <summary>Polls <paramref name="condition"/> every 5 ms until it holds; <see cref="TimeoutException"/> naming <paramref name="what"/> after 30 s.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for: {what}");
            await Task.Delay(5);
        }
    }
}
