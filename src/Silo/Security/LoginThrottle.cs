using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace TimeFusion.Silo.Security;

/// <summary>
/// The login failure back-off of every endpoint (PostgreSQL and Flight), per user name and per client address
/// (<see cref="LoginThrottleOptions"/>). Past the free failures each attempt for a name or from an address takes the
/// next turn, spaced by a delay that doubles per failure: parallel connections queue rather than multiply the guess
/// rate. A burst of failures is logged once when it starts and once when the back-off engages, never per attempt.
/// </summary>
public sealed class LoginThrottle
{
    private const int MaxTracked = 100_000;

    private readonly LoginThrottleOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Creates the throttle.</summary>
    public LoginThrottle(IOptions<LoginThrottleOptions> options, ILogger<LoginThrottle>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A throttle with default settings (tests and hosts without DI).</summary>
    public static LoginThrottle CreateDefault() => new(Options.Create(new LoginThrottleOptions()));

    private sealed class Entry
    {
        public int Failures;
        public long LastFailure;
        public long NextTurn;
        public bool Warned;
    }

    /// <summary>
    /// Waits for this attempt's turn when the name or the address is in back-off (returns at once otherwise).
    /// Call before checking the password.
    /// </summary>
    public async ValueTask WaitTurnAsync(string userName, IPAddress? address, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        var wait = Math.Max(TakeTurn(UserKey(userName), now), address is null ? 0 : TakeTurn(AddressKey(address), now));
        if (wait > 0) await Task.Delay(_time.GetElapsedTime(now, now + wait), _time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The delay an attempt for that name from that address would wait now (for tests and status).</summary>
    public TimeSpan CurrentDelay(string userName, IPAddress? address)
    {
        var now = _time.GetTimestamp();
        var ticks = Math.Max(Pending(UserKey(userName), now), address is null ? 0 : Pending(AddressKey(address), now));
        return _time.GetElapsedTime(now, now + ticks);
    }

    /// <summary>Records a failed login; logs the start of a burst and the start of its back-off, once each.</summary>
    public void Failed(string protocol, string userName, IPAddress? address)
    {
        var now = _time.GetTimestamp();
        var (userFailures, userStarted, userEngaged) = Fail(UserKey(userName), now);
        var (addressFailures, addressStarted, addressEngaged) = address is null ? (0, false, false) : Fail(AddressKey(address), now);
        // One line per burst: keyed on the address when known (a spray over many names is one burst), else the name.
        if (address is null ? userStarted : addressStarted)
        {
            _logger.LogInformation("{Protocol}: password authentication failed for user \"{User}\" from {Address}; further failures of this burst are counted, not logged",
                protocol, LogText.Escape(userName), address);
        }
        if (userEngaged || addressEngaged)
        {
            _logger.LogWarning("{Protocol}: login back-off engaged after {Failures} failures for user \"{User}\" / {AddressFailures} from {Address}",
                protocol, userFailures, LogText.Escape(userName), addressFailures, address);
        }
    }

    /// <summary>Records a successful login: the name's and the address's failures are forgotten.</summary>
    public void Succeeded(string userName, IPAddress? address)
    {
        _entries.TryRemove(UserKey(userName), out _);
        if (address is not null) _entries.TryRemove(AddressKey(address), out _);
    }

    private static string UserKey(string userName) => "u:" + userName;

    private static string AddressKey(IPAddress address) => "a:" + (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    private long TakeTurn(string key, long now)
    {
        if (!_entries.TryGetValue(key, out var entry)) return 0;
        lock (entry)
        {
            if (Expired(entry, now) || entry.Failures <= _options.FreeFailures) return 0;
            var turn = Math.Max(now, entry.NextTurn);
            entry.NextTurn = turn + DelayTicks(entry.Failures);
            return turn - now;
        }
    }

    private long Pending(string key, long now)
    {
        if (!_entries.TryGetValue(key, out var entry)) return 0;
        lock (entry)
        {
            if (Expired(entry, now) || entry.Failures <= _options.FreeFailures) return 0;
            return Math.Max(0, Math.Max(now, entry.NextTurn) - now);
        }
    }

    private (int Failures, bool Started, bool Engaged) Fail(string key, long now)
    {
        if (_entries.Count >= MaxTracked) Prune(now);
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        lock (entry)
        {
            var started = false;
            if (entry.Failures == 0 || Expired(entry, now))
            {
                entry.Failures = 0;
                entry.Warned = false;
                entry.NextTurn = now;
                started = true;
            }
            entry.Failures++;
            entry.LastFailure = now;
            // Past the free failures, the next attempt waits at least this failure's delay.
            if (entry.Failures > _options.FreeFailures) entry.NextTurn = Math.Max(entry.NextTurn, now + DelayTicks(entry.Failures));
            var engaged = entry.Failures > _options.FreeFailures && !entry.Warned;
            if (engaged) entry.Warned = true;
            return (entry.Failures, started, engaged);
        }
    }

    private bool Expired(Entry entry, long now) => _time.GetElapsedTime(entry.LastFailure, now) > _options.ForgetAfter;

    private long DelayTicks(int failures)
    {
        var beyond = Math.Min(failures - _options.FreeFailures - 1, 30);
        var delay = Math.Min(_options.BaseDelay.TotalSeconds * Math.Pow(2, beyond), _options.MaxDelay.TotalSeconds);
        return (long)(delay * _time.TimestampFrequency);
    }

    private void Prune(long now)
    {
        foreach (var (key, entry) in _entries)
        {
            if (Expired(entry, now)) _entries.TryRemove(key, out _);
        }
        // Still full (a flood of distinct names within ForgetAfter): forget everything rather than grow without bound.
        if (_entries.Count >= MaxTracked) _entries.Clear();
    }
}
