using TimeFusion.Buffer;
using TimeFusion.Delta.Actions;

namespace TimeFusion.Dml;

/// <summary>
/// The Delta side of one DML statement, prepared but not committed: the files it replaces (<c>remove</c>s) and
/// the uploaded files that replace them (<c>add</c>s), and how many rows matched. Disposing deletes the local
/// staging copies (the uploaded objects stay; if never committed, VACUUM removes them).
/// </summary>
internal sealed class DmlDeltaRewrite : IDisposable
{
    private readonly string? _staging;

    public DmlDeltaRewrite(IReadOnlyList<DeltaAction> actions, IReadOnlyList<ExportedFile> files, long matchedRows, string? staging, int filesRead)
    {
        FilesRead = filesRead;
        Actions = actions;
        Files = files;
        MatchedRows = matchedRows;
        _staging = staging;
    }

    /// <summary>The <c>remove</c> and <c>add</c> actions to commit; empty when no file holds a matching row.</summary>
    public IReadOnlyList<DeltaAction> Actions { get; }

    /// <summary>The new files (already uploaded).</summary>
    public IReadOnlyList<ExportedFile> Files { get; }

    /// <summary>Active files read to find matching rows (the rest were pruned by the statement's time range).</summary>
    public int FilesRead { get; }

    /// <summary>Rows of the Delta table the statement deletes or updates.</summary>
    public long MatchedRows { get; }

    public void Dispose()
    {
        if (_staging is not null && Directory.Exists(_staging))
            Directory.Delete(_staging, recursive: true);
    }
}
