namespace TimeFusion.CrashChild;

/// <summary>Line-at-a-time stdout, flushed per line, safe from many tasks.</summary>
public sealed class CrashOutput
{
    private readonly Lock _gate = new();
    private readonly TextWriter _out = Console.Out;

    /// <summary>Writes a complete line; the parent reads only lines ending with " END".</summary>
    public void Line(string text)
    {
        lock (_gate)
        {
            _out.Write(text + " END\n");
            _out.Flush();
        }
    }
}
