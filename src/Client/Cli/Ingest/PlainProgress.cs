using System.Diagnostics;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>Progress as plain lines on stderr, at most one a second (output that is not a terminal).</summary>
public sealed class PlainProgress(TextWriter output) : IIngestProgress
{
    private readonly Stopwatch _clock = new();
    private TimeSpan _lastLine;
    private string _file = "";
    private long _total;

    /// <inheritdoc />
    public void Start(string file, long totalBytes)
    {
        _file = file;
        _total = totalBytes;
        _lastLine = TimeSpan.Zero;
        _clock.Restart();
    }

    /// <inheritdoc />
    public void Report(long rows, long bytes)
    {
        if (_clock.Elapsed - _lastLine < TimeSpan.FromSeconds(1)) return;
        _lastLine = _clock.Elapsed;
        output.WriteLine(IngestRates.Line(_file, rows, bytes, _total, _clock.Elapsed));
    }

    /// <inheritdoc />
    public void Finish(long rows, long bytes)
    {
        _clock.Stop();
        output.WriteLine(IngestRates.Line(_file, rows, bytes, _total, _clock.Elapsed));
    }
}

/// <summary>Rows/s, MB/s and ETA in words.</summary>
public static class IngestRates
{
    /// <summary>"file: 120,000 rows, 45 % (34,000 rows/s, 12.3 MB/s, ETA 00:00:03)".</summary>
    public static string Line(string file, long rows, long bytes, long total, TimeSpan elapsed)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 1e-3);
        var bytesPerSecond = bytes / seconds;
        var eta = bytesPerSecond > 0 && total > bytes ? TimeSpan.FromSeconds(Math.Ceiling((total - bytes) / bytesPerSecond)) : TimeSpan.Zero;
        var percent = total > 0 ? 100.0 * bytes / total : 100;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{file}: {rows:N0} rows, {percent:0} % ({rows / seconds:N0} rows/s, {bytesPerSecond / 1e6:0.0} MB/s, ETA {eta:hh\\:mm\\:ss})");
    }
}
