using System.Globalization;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Session;

/// <summary>
/// The run-time settings the protocol layer owns for a session (SET/SHOW/RESET): statement_timeout (enforced
/// here), the ones drivers expect to read and set (application_name, client_encoding, DateStyle, TimeZone, …)
/// and a few accepted without effect. Other names go to the backend.
/// </summary>
internal sealed class SessionSettings
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _defaults = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _serverVersion;
    private readonly bool _isSuperuser;
    private readonly string _userName;

    // Settings clients set that have no effect here but must not fail.
    private static readonly HashSet<string> Accepted = new(StringComparer.OrdinalIgnoreCase)
    {
        "extra_float_digits", "client_min_messages", "lock_timeout", "idle_in_transaction_session_timeout",
        "idle_session_timeout", "lc_messages", "lc_monetary", "lc_numeric", "lc_time", "row_security", "jit",
        "synchronous_commit", "bytea_output", "default_transaction_isolation", "default_transaction_read_only",
        "geqo", "enable_seqscan", "work_mem", "intervalstyle", "standard_conforming_strings", "escape_string_warning",
        "join_collapse_limit", "from_collapse_limit", "max_parallel_workers_per_gather",
    };

    // Settings clients read; changing them is refused.
    private static readonly HashSet<string> ReadOnly = new(StringComparer.OrdinalIgnoreCase)
    {
        "server_version", "server_version_num", "server_encoding", "integer_datetimes", "is_superuser",
        "session_authorization", "max_identifier_length", "in_hot_standby", "transaction_read_only",
        "transaction_isolation",
    };

    // Reported to the client in ParameterStatus at start-up and whenever they change.
    private static readonly string[] Reported =
    [
        "application_name", "client_encoding", "DateStyle", "default_transaction_read_only", "in_hot_standby",
        "integer_datetimes", "IntervalStyle", "is_superuser", "server_encoding", "server_version",
        "session_authorization", "standard_conforming_strings", "TimeZone",
    ];

    public SessionSettings(TimeSpan statementTimeout, string serverVersion, string userName, bool isSuperuser)
    {
        _serverVersion = serverVersion;
        _userName = userName;
        _isSuperuser = isSuperuser;
        StatementTimeout = statementTimeout;
        _values["statement_timeout"] = FormatTimeout(statementTimeout);
        _values["application_name"] = "";
        _values["client_encoding"] = "UTF8";
        _values["DateStyle"] = "ISO, MDY";
        _values["TimeZone"] = "UTC";
        _values["IntervalStyle"] = "postgres";
        _values["standard_conforming_strings"] = "on";
        _values["extra_float_digits"] = "1";
        _values["client_min_messages"] = "notice";
        _values["bytea_output"] = "hex";
        _values["default_transaction_read_only"] = "off";
        _values["default_transaction_isolation"] = "read committed";
        _values["lock_timeout"] = "0";
        _values["idle_in_transaction_session_timeout"] = "0";
        _values["idle_session_timeout"] = "0";
        _values["lc_messages"] = "C";
        _values["lc_monetary"] = "C";
        _values["lc_numeric"] = "C";
        _values["lc_time"] = "C";
        _values["row_security"] = "on";
        _values["jit"] = "off";
        _values["synchronous_commit"] = "on";
    }

    /// <summary>The statement timeout; zero means none.</summary>
    public TimeSpan StatementTimeout { get; private set; }

    /// <summary>The session time zone (timestamptz text output and input without an offset).</summary>
    public TimeZoneInfo TimeZone { get; private set; } = TimeZoneInfo.Utc;

    /// <summary>Whether the protocol layer answers SET/SHOW/RESET for this name.</summary>
    public static bool Handles(string name) =>
        name.Equals("statement_timeout", StringComparison.OrdinalIgnoreCase)
        || name.Equals("application_name", StringComparison.OrdinalIgnoreCase)
        || name.Equals("client_encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("datestyle", StringComparison.OrdinalIgnoreCase)
        || name.Equals("timezone", StringComparison.OrdinalIgnoreCase)
        || Accepted.Contains(name) || ReadOnly.Contains(name);

    /// <summary>Remembers the current values as the defaults RESET returns to (after start-up parameters).</summary>
    public void CaptureDefaults()
    {
        _defaults.Clear();
        foreach (var (k, v) in _values)
        {
            _defaults[k] = v;
        }
    }

    /// <summary>Every parameter reported at start-up with its value.</summary>
    public IEnumerable<KeyValuePair<string, string>> ReportedParameters() =>
        Reported.Select(name => new KeyValuePair<string, string>(name, Show(name)));

    /// <summary>Whether changing this setting is reported to the client (ParameterStatus).</summary>
    public static bool IsReported(string name) => Reported.Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The canonical name of a setting (as PostgreSQL spells it in ParameterStatus).</summary>
    public static string Canonical(string name) =>
        Reported.FirstOrDefault(r => r.Equals(name, StringComparison.OrdinalIgnoreCase)) ?? name.ToLowerInvariant();

    /// <summary>Sets a value (null = default). Returns the canonical name.</summary>
    /// <exception cref="PostgresErrorException">An invalid or read-only value.</exception>
    public string Set(string name, string? value)
    {
        var canonical = Canonical(name);
        if (ReadOnly.Contains(name))
        {
            throw new PostgresErrorException(SqlState.CantChangeRuntimeParam, $"parameter \"{canonical}\" cannot be changed");
        }
        if (value is null)
        {
            Reset(canonical);
            return canonical;
        }
        switch (canonical.ToLowerInvariant())
        {
            case "statement_timeout":
                StatementTimeout = ParseTimeout(value);
                _values["statement_timeout"] = FormatTimeout(StatementTimeout);
                break;
            case "application_name":
                _values["application_name"] = value.Length > 63 ? value[..63] : value;
                break;
            case "client_encoding":
            {
                var v = value.Replace("-", "").Replace("_", "").ToUpperInvariant();
                if (v is not ("UTF8" or "UNICODE" or "SQLASCII"))
                {
                    throw new PostgresErrorException(SqlState.FeatureNotSupported,
                        $"client_encoding \"{value}\" is not supported: this server speaks UTF8 only");
                }
                _values["client_encoding"] = "UTF8";
                break;
            }
            case "datestyle":
            {
                var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                if (parts.Any(p => !p.Equals("ISO", StringComparison.OrdinalIgnoreCase) && !p.Equals("MDY", StringComparison.OrdinalIgnoreCase)
                                   && !p.Equals("DMY", StringComparison.OrdinalIgnoreCase) && !p.Equals("YMD", StringComparison.OrdinalIgnoreCase)))
                {
                    throw new PostgresErrorException(SqlState.FeatureNotSupported, $"DateStyle \"{value}\" is not supported (ISO only)");
                }
                _values["DateStyle"] = "ISO, MDY";
                break;
            }
            case "timezone":
                TimeZone = ParseTimeZone(value);
                _values["TimeZone"] = TimeZone == TimeZoneInfo.Utc ? "UTC" : value;
                break;
            case "intervalstyle":
                if (!value.Equals("postgres", StringComparison.OrdinalIgnoreCase))
                {
                    throw new PostgresErrorException(SqlState.FeatureNotSupported, $"IntervalStyle \"{value}\" is not supported");
                }
                break;
            case "standard_conforming_strings":
                if (!IsOn(value))
                {
                    throw new PostgresErrorException(SqlState.FeatureNotSupported, "standard_conforming_strings cannot be turned off");
                }
                break;
            case "bytea_output":
                if (!value.Equals("hex", StringComparison.OrdinalIgnoreCase))
                {
                    throw new PostgresErrorException(SqlState.FeatureNotSupported, "bytea_output must be hex");
                }
                break;
            default:
                _values[canonical] = value;
                break;
        }
        return canonical;
    }

    /// <summary>Resets one setting to its default.</summary>
    public void Reset(string name)
    {
        var canonical = Canonical(name);
        if (_defaults.TryGetValue(canonical, out var value))
        {
            Set(canonical, value);
        }
    }

    /// <summary>Resets every setting; returns the reported ones that changed.</summary>
    public List<string> ResetAll()
    {
        var before = Reported.ToDictionary(r => r, Show);
        foreach (var (k, v) in _defaults.ToList())
        {
            if (!ReadOnly.Contains(k))
            {
                Set(k, v);
            }
        }
        return Reported.Where(r => before[r] != Show(r)).ToList();
    }

    /// <summary>The value SHOW reports.</summary>
    /// <exception cref="PostgresErrorException">42704 for a name this layer does not know.</exception>
    public string Show(string name)
    {
        switch (name.ToLowerInvariant())
        {
            case "server_version":
                return _serverVersion;
            case "server_version_num":
            {
                var numeric = new string(_serverVersion.TakeWhile(c => char.IsAsciiDigit(c) || c == '.').ToArray()).Split('.');
                var major = numeric.Length > 0 && int.TryParse(numeric[0], out var m) ? m : 15;
                var minor = numeric.Length > 1 && int.TryParse(numeric[1], out var n) ? n : 0;
                return (major * 10000 + minor).ToString(CultureInfo.InvariantCulture);
            }
            case "server_encoding":
                return "UTF8";
            case "integer_datetimes":
                return "on";
            case "is_superuser":
                return _isSuperuser ? "on" : "off";
            case "session_authorization":
                return _userName;
            case "max_identifier_length":
                return "63";
            case "in_hot_standby":
            case "transaction_read_only":
                return "off";
            case "transaction_isolation":
                // A block's reads see committed rows and its writes land at COMMIT: read committed.
                return "read committed";
        }
        return _values.TryGetValue(name, out var value)
            ? value
            : throw new PostgresErrorException(SqlState.UndefinedObject, $"unrecognized configuration parameter \"{name}\"");
    }

    /// <summary>Every setting with its value (SHOW ALL).</summary>
    public IEnumerable<KeyValuePair<string, string>> All() =>
        _values.Keys.Concat(ReadOnly).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(k => k, StringComparer.OrdinalIgnoreCase)
            .Select(k => new KeyValuePair<string, string>(k, Show(k)));

    /// <summary>Parses a timeout as PostgreSQL does: a bare number is milliseconds; units us, ms, s, min, h, d.</summary>
    public static TimeSpan ParseTimeout(string value)
    {
        var text = value.Trim();
        var split = 0;
        while (split < text.Length && (char.IsAsciiDigit(text[split]) || text[split] is '.' or '-' or '+'))
        {
            split++;
        }
        if (split == 0 || !double.TryParse(text[..split], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number < 0)
        {
            throw new PostgresErrorException(SqlState.InvalidParameterValue, $"invalid value for parameter \"statement_timeout\": \"{value}\"");
        }
        var unit = text[split..].Trim().ToLowerInvariant();
        var ms = unit switch
        {
            "" or "ms" => number,
            "us" => number / 1000,
            "s" => number * 1000,
            "min" => number * 60_000,
            "h" => number * 3_600_000,
            "d" => number * 86_400_000,
            _ => throw new PostgresErrorException(SqlState.InvalidParameterValue,
                $"invalid value for parameter \"statement_timeout\": \"{value}\"") { Hint = "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\"." },
        };
        if (ms > int.MaxValue)
        {
            throw new PostgresErrorException(SqlState.InvalidParameterValue, $"{value} is outside the valid range for parameter \"statement_timeout\"");
        }
        return TimeSpan.FromMilliseconds(Math.Round(ms));
    }

    /// <summary>Formats a timeout as SHOW does (largest exact unit).</summary>
    public static string FormatTimeout(TimeSpan timeout)
    {
        var ms = (long)timeout.TotalMilliseconds;
        if (ms == 0)
        {
            return "0";
        }
        if (ms % 86_400_000 == 0)
        {
            return $"{ms / 86_400_000}d";
        }
        if (ms % 3_600_000 == 0)
        {
            return $"{ms / 3_600_000}h";
        }
        if (ms % 60_000 == 0)
        {
            return $"{ms / 60_000}min";
        }
        if (ms % 1000 == 0)
        {
            return $"{ms / 1000}s";
        }
        return $"{ms}ms";
    }

    private static TimeZoneInfo ParseTimeZone(string value)
    {
        var v = value.Trim();
        if (v.Equals("UTC", StringComparison.OrdinalIgnoreCase) || v.Equals("GMT", StringComparison.OrdinalIgnoreCase)
            || v.Equals("Etc/UTC", StringComparison.OrdinalIgnoreCase) || v.Equals("Z", StringComparison.OrdinalIgnoreCase)
            || v.Equals("Zulu", StringComparison.OrdinalIgnoreCase) || v.Equals("UCT", StringComparison.OrdinalIgnoreCase)
            || v.Equals("Universal", StringComparison.OrdinalIgnoreCase) || v == "0" || v == "+00" || v == "+00:00")
        {
            return TimeZoneInfo.Utc;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(v);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new PostgresErrorException(SqlState.InvalidParameterValue, $"invalid value for parameter \"TimeZone\": \"{value}\"");
        }
    }

    private static bool IsOn(string value) =>
        value.Equals("on", StringComparison.OrdinalIgnoreCase) || value.Equals("true", StringComparison.OrdinalIgnoreCase)
        || value == "1" || value.Equals("yes", StringComparison.OrdinalIgnoreCase);
}
