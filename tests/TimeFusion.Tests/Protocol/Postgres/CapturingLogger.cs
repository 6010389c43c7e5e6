using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TimeFusion.Silo.Protocol.Postgres;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>Keeps warnings and errors the server logs, so tests can assert nothing unexpected went wrong inside.</summary>
public sealed class CapturingLogger : ILogger<PostgresServer>
{
    public ConcurrentQueue<string> Problems { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel >= LogLevel.Warning)
        {
            Problems.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}
