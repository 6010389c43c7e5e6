using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TimeFusion.Buffer;
using TimeFusion.Storage;
using TimeFusion.Wal;

namespace TimeFusion.Engine;

/// <summary>
/// The silo-wide services every <see cref="TableEngine"/> shares: the in-memory DuckDB buffer database (with its
/// memory budget), the object store holding Delta tables, the WAL storage, and the options.
/// </summary>
/// <param name="Buffer">The buffer database.</param>
/// <param name="Objects">Where Delta tables live.</param>
/// <param name="Wal">Where WAL segments live.</param>
/// <param name="Options">Engine options.</param>
/// <param name="LoggerFactory">Loggers for tables; null for none.</param>
public sealed record EngineServices(
    BufferDatabase Buffer,
    IObjectStore Objects,
    IWalStorage Wal,
    EngineOptions Options,
    ILoggerFactory? LoggerFactory = null)
{
    internal ILogger Logger { get; } = (LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TimeFusion.Engine");
}
