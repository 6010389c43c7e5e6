namespace TimeFusion.Client.Cli.Ingest;

/// <summary>Shows how an ingest goes: rows and bytes of the current file.</summary>
public interface IIngestProgress
{
    /// <summary>A file starts.</summary>
    void Start(string file, long totalBytes);

    /// <summary>Rows landed and bytes read of the current file so far.</summary>
    void Report(long rows, long bytes);

    /// <summary>The current file is done.</summary>
    void Finish(long rows, long bytes);
}
