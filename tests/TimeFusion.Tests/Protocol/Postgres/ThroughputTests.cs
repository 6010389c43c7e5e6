using System.Diagnostics;
using System.Runtime.CompilerServices;
using Apache.Arrow;
using Apache.Arrow.Types;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using TimeFusion.Silo.Protocol.Postgres;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>
/// What the protocol layer itself costs: a backend that answers from prebuilt Arrow batches and swallows
/// COPY batches, so the figures are wire encoding/decoding only (printed; asserts only check correctness).
/// </summary>
public sealed class ThroughputTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ConstantBackend _backend = new();
    private readonly CapturingLogger _logger = new();
    private PostgresServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = new PostgresServer(_backend, Options.Create(new PostgresServerOptions { Port = 0 }), _logger);
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var problem in _logger.Problems)
        {
            output.WriteLine(problem);
        }
        Assert.Empty(_logger.Problems);
    }

    [Fact]
    public async Task Protocol_layer_throughput()
    {
        var builder = new NpgsqlDataSourceBuilder($"Host=127.0.0.1;Port={_server.LocalEndPoint!.Port};Username=u;Password=pw;Pooling=false");
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        await using var ds = builder.Build();
        await using var connection = await ds.OpenConnectionAsync();

        // Round trips.
        await using (var cmd = new NpgsqlCommand("SELECT one", connection))
        {
            for (var i = 0; i < 100; i++)
            {
                await cmd.ExecuteScalarAsync();
            }
            var stopwatch = Stopwatch.StartNew();
            var n = 0;
            while (stopwatch.Elapsed < TimeSpan.FromSeconds(1))
            {
                Assert.Equal(1, await cmd.ExecuteScalarAsync());
                n++;
            }
            output.WriteLine($"round trips (no engine behind): {n / stopwatch.Elapsed.TotalSeconds:N0}/s");
        }

        // Result rows out, binary (Npgsql's default) and text.
        foreach (var text in new[] { false, true })
        {
            await using var cmd = new NpgsqlCommand("SELECT rows", connection) { AllResultTypesAreUnknown = text };
            var stopwatch = Stopwatch.StartNew();
            await using var reader = await cmd.ExecuteReaderAsync();
            long rows = 0;
            while (await reader.ReadAsync())
            {
                rows++;
            }
            Assert.Equal(ConstantBackend.ResultRows, rows);
            output.WriteLine($"result rows to Npgsql ({(text ? "text" : "binary")}, 4 columns): {rows / stopwatch.Elapsed.TotalSeconds:N0}/s");
        }

        // COPY in, binary and text.
        const int copyRows = 500_000;
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var binary = Stopwatch.StartNew();
        await using (var importer = await connection.BeginBinaryImportAsync("COPY sink FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < copyRows; i++)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(start.AddTicks(i * 10), NpgsqlDbType.TimestampTz);
                await importer.WriteAsync(i % 3 == 0 ? "checkout" : "cart", NpgsqlDbType.Text);
                await importer.WriteAsync((long)i, NpgsqlDbType.Bigint);
                await importer.WriteAsync(i % 5 != 0, NpgsqlDbType.Boolean);
            }
            Assert.Equal((ulong)copyRows, await importer.CompleteAsync());
        }
        binary.Stop();
        var textCopy = Stopwatch.StartNew();
        await using (var writer = await connection.BeginTextImportAsync("COPY sink FROM STDIN"))
        {
            for (var i = 0; i < copyRows; i++)
            {
                await writer.WriteAsync($"2024-01-01 00:00:00.{i % 1000000:D6}+00\tcart\t{i}\tt\n");
            }
        }
        textCopy.Stop();
        Assert.Equal(2L * copyRows, _backend.CopiedRows);
        output.WriteLine($"COPY in (no engine behind): binary {copyRows / binary.Elapsed.TotalSeconds:N0} rows/s, text {copyRows / textCopy.Elapsed.TotalSeconds:N0} rows/s");
    }

    private sealed class ConstantBackend : IPostgresBackend, IPostgresSession
    {
        public const long ResultRows = 1_000_000;
        private const int BatchRows = 8192;
        private long _copied;

        public long CopiedRows => Interlocked.Read(ref _copied);

        private static readonly Schema RowsSchema = new(
        [
            new Field("ts", new TimestampType(TimeUnit.Microsecond, "UTC"), true),
            new Field("service", StringType.Default, true),
            new Field("duration", Int64Type.Default, true),
            new Field("ok", BooleanType.Default, true),
        ], null);

        private static readonly Schema OneSchema = new([new Field("one", Int32Type.Default, false)], null);

        private readonly RecordBatch _batch = BuildBatch();

        private static RecordBatch BuildBatch()
        {
            var ts = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
            var service = new StringArray.Builder();
            var duration = new Int64Array.Builder();
            var ok = new BooleanArray.Builder();
            for (var i = 0; i < BatchRows; i++)
            {
                ts.Append(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMilliseconds(i));
                service.Append(i % 3 == 0 ? "checkout" : "cart");
                duration.Append(i * 1000L);
                ok.Append(i % 5 != 0);
            }
            return new RecordBatch(RowsSchema, [ts.Build(), service.Build(), duration.Build(), ok.Build()], BatchRows);
        }

        public ValueTask<PostgresUser?> FindUserAsync(string userName, CancellationToken cancellationToken) =>
            ValueTask.FromResult<PostgresUser?>(new PostgresUser { Name = userName, PasswordOrScramSecret = "pw" });

        public ValueTask<IPostgresSession> OpenSessionAsync(PostgresUser user, PostgresSessionInfo info, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IPostgresSession>(this);

        public ValueTask<StatementDescription> DescribeAsync(BackendStatement statement, IReadOnlyList<PgType?> parameterTypeHints, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new StatementDescription([], statement.Sql == "SELECT rows" ? RowsSchema : OneSchema));

        public ValueTask<StatementResult> ExecuteAsync(BackendStatement statement, IReadOnlyList<object?> parameters, CancellationToken cancellationToken) =>
            ValueTask.FromResult(statement.Sql == "SELECT rows"
                ? StatementResult.Rows(RowsSchema, Rows(cancellationToken))
                : StatementResult.Rows(OneSchema, One()));

        private async IAsyncEnumerable<RecordBatch> Rows([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (long sent = 0; sent < ResultRows; sent += BatchRows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var take = (int)Math.Min(BatchRows, ResultRows - sent);
                yield return _batch.SliceShared(0, take); // reference-counted: the protocol layer disposes what it reads
                await Task.CompletedTask;
            }
        }

        private static async IAsyncEnumerable<RecordBatch> One()
        {
            yield return new RecordBatch(OneSchema, [new Int32Array.Builder().Append(1).Build()], 1);
            await Task.CompletedTask;
        }

        public ValueTask<CopyTarget> DescribeCopyTargetAsync(string table, IReadOnlyList<string>? columns, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new CopyTarget(table, RowsSchema));

        public async ValueTask<long> CopyInAsync(CopyTarget target, IAsyncEnumerable<RecordBatch> batches, CancellationToken cancellationToken)
        {
            long rows = 0;
            await foreach (var batch in batches.WithCancellation(cancellationToken))
            {
                rows += batch.Length;
                batch.Dispose();
            }
            Interlocked.Add(ref _copied, rows);
            return rows;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
