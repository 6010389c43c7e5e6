using System.Collections.Concurrent;
using Npgsql;

namespace TimeFusion.Tests.ClusterMode;

/// <summary>
/// Writers over Npgsql inserting small batches into 24 projects, each row with a unique id. A batch refused with a
/// retryable SQLSTATE (or a dropped connection) is written again under NEW ids, so a batch whose outcome was unknown
/// can appear at most once, and every acknowledged batch must appear exactly once. Any other error is recorded and
/// fails the test.
/// </summary>
public sealed class ClusterWriters
{
    /// <summary>The SQLSTATEs TimeFusion documents as retryable (README "Cluster mode").</summary>
    public static readonly IReadOnlySet<string> Retryable = new HashSet<string>
    {
        "40001", "40003", "57P01", "08006", "58030", "53200", "57014",
    };

    public const int Projects = 24;

    /// <summary>A WHERE clause reaching every project the writers use (an admin's statement otherwise reaches its default project).</summary>
    public static readonly string AllProjects =
        "project_id IN (" + string.Join(", ", Enumerable.Range(0, Projects).Select(p => $"'p{p:D2}'")) + ")";
    private const int RowsPerBatch = 4;

    private readonly ConcurrentDictionary<string, byte> _acknowledged = new();
    private readonly ConcurrentBag<string> _unexpected = [];
    private readonly ConcurrentDictionary<string, int> _retried = new();
    private readonly ConcurrentDictionary<string, byte> _refused = new();
    private readonly ConcurrentBag<string> _errors = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private long _batchesSinceMark;
    private readonly ConcurrentDictionary<string, byte> _projectsSinceMark = new();

    /// <summary>New writers; with <paramref name="previous"/>, continuing its ids and its acknowledged rows.</summary>
    public ClusterWriters(ClusterWriters? previous = null)
    {
        if (previous is null) return;
        foreach (var id in previous._acknowledged.Keys) _acknowledged.TryAdd(id, 0);
        _generation = previous._generation + 1;
    }

    private readonly int _generation;

    public IReadOnlyCollection<string> Acknowledged => (IReadOnlyCollection<string>)_acknowledged.Keys;

    public IReadOnlyCollection<string> Unexpected => _unexpected;

    /// <summary>
    /// Ids of batches refused with 40001, the SQLSTATE of a write fenced off (its table has another owner now): none of
    /// them may ever be found.
    /// </summary>
    public IReadOnlyCollection<string> Refused => (IReadOnlyCollection<string>)_refused.Keys;

    /// <summary>Non-retryable errors of writers started with <c>anyErrorAllowed</c> (a silo that is going away may answer anything but success).</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    /// <summary>Retryable refusals by SQLSTATE (or "connection" for a dropped connection).</summary>
    public IReadOnlyDictionary<string, int> Retried => _retried;

    /// <summary>Acknowledged batches since the last <see cref="Mark"/>.</summary>
    public long BatchesSinceMark => Interlocked.Read(ref _batchesSinceMark);

    /// <summary>Projects with an acknowledged batch since the last <see cref="Mark"/>.</summary>
    public int ProjectsSinceMark => _projectsSinceMark.Count;

    public void Mark()
    {
        Interlocked.Exchange(ref _batchesSinceMark, 0);
        _projectsSinceMark.Clear();
    }

    /// <summary>
    /// Starts <paramref name="count"/> writers; each prefers the silo at its index in <paramref name="silos"/> and moves on
    /// when it is down. They write to every project, or only to <paramref name="projects"/>. With
    /// <paramref name="anyErrorAllowed"/>, a non-retryable error is noted in <see cref="Errors"/> instead of failing the test.
    /// </summary>
    public void Start(int count, Func<IReadOnlyList<ClusterSiloProcess>> silos, IReadOnlyList<string>? projects = null, bool anyErrorAllowed = false)
    {
        var targets = projects ?? Enumerable.Range(0, Projects).Select(p => $"p{p:D2}").ToList();
        for (var w = 0; w < count; w++)
        {
            var writer = _tasks.Count;
            _tasks.Add(Task.Run(() => RunAsync(writer, silos, targets, anyErrorAllowed)));
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks);
    }

    private async Task RunAsync(int writer, Func<IReadOnlyList<ClusterSiloProcess>> silos, IReadOnlyList<string> projects, bool anyErrorAllowed)
    {
        var sequence = 0;
        var preferred = writer;
        NpgsqlConnection? connection = null;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var ids = Enumerable.Range(0, RowsPerBatch).Select(k => $"g{_generation}w{writer}-{sequence}-{k}").ToArray();
                var project = projects[sequence % projects.Count];
                sequence++;
                try
                {
                    if (connection is null)
                    {
                        var candidates = silos();
                        var silo = candidates[preferred % candidates.Count];
                        if (!silo.IsRunning)
                        {
                            preferred++;
                            await Task.Delay(20);
                            continue;
                        }
                        connection = new NpgsqlConnection(silo.ConnectionString(5));
                        await connection.OpenAsync();
                    }
                    var values = string.Join(", ", ids.Select(id => $"('{project}', '{id}', now(), 'INFO')"));
                    await using var command = new NpgsqlCommand($"INSERT INTO otel_logs_and_spans (project_id, id, timestamp, level) VALUES {values}", connection);
                    await command.ExecuteNonQueryAsync();
                    foreach (var id in ids) _acknowledged.TryAdd(id, 0);
                    Interlocked.Increment(ref _batchesSinceMark);
                    _projectsSinceMark.TryAdd(project, 0);
                    // A steady load, not a flood: the silos share two cores with the test, Azurite and each other.
                    await Task.Delay(10);
                }
                catch (PostgresException e) when (Retryable.Contains(e.SqlState))
                {
                    _retried.AddOrUpdate(e.SqlState, 1, (_, n) => n + 1);
                    if (e.SqlState == "40001") foreach (var id in ids) _refused.TryAdd(id, 0);
                    if (e.SqlState is "57P01" or "08006") (connection, preferred) = (await DropAsync(connection), preferred + 1);
                    await Task.Delay(50);
                }
                catch (PostgresException e)
                {
                    (anyErrorAllowed ? _errors : _unexpected).Add($"{e.SqlState}: {e.MessageText}");
                    await Task.Delay(50);
                }
                catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
                {
                    // The silo went away (or refused the connection while starting): try the next one.
                    _retried.AddOrUpdate("connection", 1, (_, n) => n + 1);
                    (connection, preferred) = (await DropAsync(connection), preferred + 1);
                    await Task.Delay(100);
                }
            }
        }
        finally
        {
            await DropAsync(connection);
        }
    }

    private static async Task<NpgsqlConnection?> DropAsync(NpgsqlConnection? connection)
    {
        if (connection is not null)
        {
            try
            {
                await connection.DisposeAsync();
            }
            catch (Exception e) when (e is NpgsqlException or IOException)
            {
                // Already broken.
            }
        }
        return null;
    }

    /// <summary>
    /// Every id in the table through <paramref name="silo"/> with its count, asking again while the answer is a
    /// retryable refusal (tables of a dead silo reopen elsewhere on first use).
    /// </summary>
    public static async Task<Dictionary<string, int>> ReadAllIdsAsync(ClusterSiloProcess silo, TimeSpan timeout, List<string>? refusals = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(silo.ConnectionString());
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand($"SELECT id, count(*) FROM otel_logs_and_spans WHERE {AllProjects} GROUP BY id", connection);
                await using var reader = await command.ExecuteReaderAsync();
                var counts = new Dictionary<string, int>();
                while (await reader.ReadAsync()) counts[reader.GetString(0)] = (int)reader.GetInt64(1);
                return counts;
            }
            catch (PostgresException e) when (Retryable.Contains(e.SqlState) && DateTime.UtcNow < deadline)
            {
                refusals?.Add(e.SqlState);
                await Task.Delay(250);
            }
        }
    }

    /// <summary>Asserts every acknowledged id exactly once and no id twice.</summary>
    public void AssertExactlyOnce(Dictionary<string, int> counts)
    {
        Assert.Empty(Unexpected);
        var missing = Acknowledged.Where(id => !counts.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {Acknowledged.Count} acknowledged rows are missing, e.g. {string.Join(", ", missing.Take(10))}");
        var duplicated = counts.Where(c => c.Value != 1).Select(c => $"{c.Key}×{c.Value}").ToList();
        Assert.True(duplicated.Count == 0, $"rows found more than once: {string.Join(", ", duplicated.Take(10))}");
    }

    /// <summary>Asserts that no row of a batch refused with 40001 (fenced) was written after all.</summary>
    public void AssertNoRefusedRowLanded(Dictionary<string, int> counts)
    {
        var landed = Refused.Where(counts.ContainsKey).ToList();
        Assert.True(landed.Count == 0, $"{landed.Count} rows of writes refused with 40001 were written anyway, e.g. {string.Join(", ", landed.Take(10))}");
    }
}
