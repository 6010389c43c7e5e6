using Microsoft.Extensions.Logging;

namespace TimeFusion.Wal;

/// <summary>WAL storage in local files under one root folder (the single-node default).</summary>
public sealed class LocalWalStorage : IWalStorage
{
    private readonly string _root;
    private readonly ILogger? _logger;
    private int _directIoRefusalLogged;

    /// <summary>
    /// Uses (and creates when missing) the folder <paramref name="rootDirectory"/>; <paramref name="logger"/> hears once
    /// when the file system refuses <c>O_DIRECT</c> (<see cref="WalWriteMode.Direct"/> then writes buffered).
    /// </summary>
    public LocalWalStorage(string rootDirectory, ILogger? logger = null)
    {
        _logger = logger;
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
        return new LocalWalDirectory(this, _root, full);
    }

    /// <summary>Logs the first refusal of O_DIRECT under this root (every later segment falls back the same way).</summary>
    internal void ReportDirectIoRefused(string file, string reason)
    {
        if (Interlocked.Exchange(ref _directIoRefusalLogged, 1) != 0) return;
        _logger?.LogWarning("WAL under '{Root}': O_DIRECT refused ({Reason}) for '{File}'; Direct mode writes its preallocated segments through the page cache here",
            _root, reason, file);
    }
}
