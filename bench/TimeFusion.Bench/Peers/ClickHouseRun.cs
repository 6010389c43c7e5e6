using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Apache.Arrow;
using TimeFusion.Bench.Suite;

namespace TimeFusion.Bench.Peers;

/// <summary>
/// ClickHouse as a peer (<c>--clickhouse</c>): the query data set loaded into a MergeTree table over HTTP in TabSeparated
/// batches of the suite's batch size (an INSERT is acknowledged once its part is written; ClickHouse does not fsync
/// by default), then the dashboard queries in ClickHouse's dialect, warm, median of runs. ClickHouse 18.16 (Debian)
/// has no DateTime64 (whole-second <c>timestamp</c> plus an epoch-µs column), no ILIKE (<c>lowerUTF8(body) LIKE</c>)
/// and no JSON functions beyond <c>visitParamExtractString</c>.
/// </summary>
public static class ClickHouseRun
{
    // Reported with the other peers, in the query section.
    public const string Section = "Queries";
    private const string Project = "p-bench";

    private static readonly string[] Columns = ["timestamp", "id", "level", "resource___service___name", "duration", "body", "attributes"];

    public static async Task RunAsync(SuiteResults results, SuiteOptions options, Dataset main)
    {
        if (!await ClickHousePeer.EnsureInstalledAsync())
        {
            results.Missing.Add("ClickHouse peer: clickhouse-server could not be installed (apt-get)");
            return;
        }
        await using var peer = await ClickHousePeer.StartAsync();
        results.Note(Section, $"ClickHouse {peer.Version} (Debian package) on loopback, MergeTree ordered by (project_id, timestamp), partitioned by day.");
        await peer.QueryAsync("""
            CREATE TABLE otel (project_id String, timestamp DateTime('UTC'), ts_us Int64, id String, level String, service String,
              duration Int64, body String, attributes String)
            ENGINE = MergeTree() PARTITION BY toDate(timestamp) ORDER BY (project_id, timestamp)
            """);

        var latencies = new List<double>();
        var buffer = new ArrayBufferWriter<byte>(64 << 20);
        var clock = Stopwatch.StartNew();
        long rows = 0;
        await foreach (var batch in main.ReadAsync())
        {
            using (batch)
            {
                buffer.ResetWrittenCount();
                WriteTsv(batch, buffer);
                var started = Stopwatch.GetTimestamp();
                await peer.InsertTsvAsync("otel", buffer.WrittenMemory.ToArray(), buffer.WrittenCount);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                rows += batch.Length;
            }
        }
        var seconds = clock.Elapsed.TotalSeconds;
        results.Add("Durable ingest", $"ClickHouse HTTP INSERT, TabSeparated, {main.BatchRows:N0}-row batches, 1 pair (one run; not fsynced)", "rows/s", [rows / seconds], rows);
        results.Add("Durable ingest", "ClickHouse HTTP INSERT", "p50 ack ms", [Stats.Median(latencies)], rows);
        results.Add("Durable ingest", "ClickHouse HTTP INSERT", "peak RSS MB", [peer.ResidentBytes() / 1e6], rows);

        var answeredRows = new List<string>();
        foreach (var (name, sql) in Queries())
        {
            long answered = 0;
            var cold = await TimeAsync(async () => answered = await CountRowsAsync(peer, sql));
            var warm = new List<double>();
            for (var r = 0; r < options.Runs; r++) warm.Add(await TimeAsync(async () => answered = await CountRowsAsync(peer, sql)));
            results.Add("Queries", name, "ClickHouse warm ms", warm, main.Rows);
            results.Add("Queries", name, "ClickHouse cold ms", [cold], main.Rows);
            answeredRows.Add($"{name} {answered:N0}");
        }
        results.Note(Section, "ClickHouse rows answered (compare with the rows column): " + string.Join("; ", answeredRows) + ".");
    }

    private static IEnumerable<(string Name, string Sql)> Queries()
    {
        var end = Dataset.End;
        var from = end.AddHours(-1).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var to = end.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        const string scope = "project_id = 'p-bench'";
        yield return ("count in the last hour",
            $"SELECT count() FROM otel WHERE {scope} AND timestamp >= toDateTime('{from}', 'UTC') AND timestamp < toDateTime('{to}', 'UTC')");
        yield return ("per-minute count and p95 duration by service, whole range",
            $"SELECT intDiv(ts_us, 60000000) AS minute, service, count() AS n, quantileExact(0.95)(duration) AS p95 FROM otel WHERE {scope} GROUP BY minute, service");
        yield return ("top-100 latest errors",
            $"SELECT timestamp, id, service, body FROM otel WHERE {scope} AND level = 'ERROR' ORDER BY ts_us DESC LIMIT 100");
        yield return ("text search, ILIKE '%failed to handle%'",
            $"SELECT count() FROM otel WHERE {scope} AND lowerUTF8(body) LIKE '%failed to handle%'");
        yield return ("text search, LIKE '%failed to handle%'",
            $"SELECT count() FROM otel WHERE {scope} AND body LIKE '%failed to handle%'");
        yield return ("JSON attribute group-by (attributes->>route)",
            $"SELECT visitParamExtractString(attributes, 'route') AS route, count() AS n FROM otel WHERE {scope} GROUP BY route");
    }

    private static async Task<double> TimeAsync(Func<Task> work)
    {
        var started = Stopwatch.GetTimestamp();
        await work();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private static async Task<long> CountRowsAsync(ClickHousePeer peer, string sql)
    {
        var text = await peer.QueryAsync(sql + " FORMAT TabSeparated");
        return text.Length == 0 ? 0 : text.Count(c => c == '\n');
    }

    /// <summary>One TabSeparated line per row: project, whole-second time, epoch µs, then the query columns.</summary>
    private static void WriteTsv(RecordBatch batch, ArrayBufferWriter<byte> output)
    {
        var arrays = Columns.Select(c => batch.Column(batch.Schema.GetFieldIndex(c))).ToArray();
        var timestamps = (TimestampArray)arrays[0];
        var line = new StringBuilder(1024);
        for (var row = 0; row < batch.Length; row++)
        {
            line.Clear();
            var micros = timestamps.GetValue(row) ?? 0;
            line.Append(Project).Append('\t')
                .Append(DateTimeOffset.FromUnixTimeMilliseconds(micros / 1000).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append('\t')
                .Append(micros.ToString(CultureInfo.InvariantCulture));
            for (var c = 1; c < arrays.Length; c++)
            {
                line.Append('\t');
                switch (arrays[c])
                {
                    case Int64Array ints:
                        line.Append((ints.GetValue(row) ?? 0).ToString(CultureInfo.InvariantCulture));
                        break;
                    case StringArray strings:
                        Escape(line, strings.GetString(row) ?? "");
                        break;
                    case StringViewArray views:
                        Escape(line, views.GetString(row) ?? "");
                        break;
                    default:
                        throw new InvalidDataException($"column {Columns[c]} is {arrays[c].Data.DataType.Name}");
                }
            }
            line.Append('\n');
            var bytes = Encoding.UTF8.GetByteCount(line.ToString());
            Encoding.UTF8.GetBytes(line.ToString(), output.GetSpan(bytes));
            output.Advance(bytes);
        }
    }

    private static void Escape(StringBuilder line, string value)
    {
        foreach (var ch in value)
        {
            switch (ch)
            {
                case '\\': line.Append("\\\\"); break;
                case '\t': line.Append("\\t"); break;
                case '\n': line.Append("\\n"); break;
                case '\r': line.Append("\\r"); break;
                default: line.Append(ch); break;
            }
        }
    }
}
