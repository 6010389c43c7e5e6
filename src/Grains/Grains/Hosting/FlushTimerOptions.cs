namespace TimeFusion.Hosting;

/// <summary>
/// How often each table grain asks its engine whether a flush is due; bound from <c>TimeFusion:Flush</c> beside
/// the engine's own <see cref="TimeFusion.Flush.FlushOptions"/> (the timer is the grain's, the thresholds the engine's).
/// </summary>
public sealed class FlushTimerOptions
{
    /// <summary>The period of the check (<c>TimeFusion:Flush:CheckInterval</c>). Default 1 s.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}
