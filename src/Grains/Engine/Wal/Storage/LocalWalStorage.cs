namespace TimeFusion.Wal;

/// <summary>WAL storage in local files under one root folder (the single-node default).</summary>
public sealed class LocalWalStorage : IWalStorage
{
    private readonly string _root;

    /// <summary>Uses (and creates when missing) the folder <paramref name="rootDirectory"/>.</summary>
    public LocalWalStorage(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        _root = Path.GetFullPath(rootDirectory);
        Directory.CreateDirectory(_root);
    }

    /// <inheritdoc />
    public string Describe => _root;

    /// <inheritdoc />
    public IWalDirectory GetDirectory(string relativePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        foreach (var part in relativePath.Split('/'))
        {
            if (part.Length == 0 || part == "." || part == ".." || part.Contains('\\') || part.Contains('\0'))
                throw new ArgumentException($"unsafe WAL folder path '{relativePath}'", nameof(relativePath));
        }
        var full = Path.GetFullPath(Path.Combine(_root, relativePath.Replace('/', Path.DirectorySeparatorChar)));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"WAL folder path '{relativePath}' leaves the root", nameof(relativePath));
        return new LocalWalDirectory(_root, full);
    }
}
