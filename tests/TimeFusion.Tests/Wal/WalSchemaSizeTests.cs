using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Wal;

/// <summary>
/// The size target of the WAL: small otel batches (normalized onto the ~90-column table schema, as ingest does) cost
/// at most 1.5× their Arrow data bytes per row, because a segment carries each schema once and small bodies leave
/// their all-null columns out (no compression).
/// </summary>
public sealed class WalSchemaSizeTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-size", OtelLogsAndSpans.TableName);

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(30)]
    public async Task Small_otel_batches_cost_at_most_one_and_a_half_times_their_arrow_bytes_per_row(int rows)
    {
        const int appends = 50;
        long arrowBytes = 0;
        var root = Path.Combine(_dir.Path, rows.ToString());
        await using (var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root)))
        {
            for (var i = 0; i < appends; i++)
            {
                var batch = BatchValidator.Validate(EngineTestKit.OtelRows(rows, $"a{i}"), OtelLogsAndSpans.Schema, Id.Project, new IngestOptions());
                arrowBytes += ArrowSize.Of(batch.Batch);
                await log.AppendInsertAsync(batch);
            }
        }
        var segments = WalFiles.Segments(root, Id);
        foreach (var segment in segments)
        {
            Assert.True(WalSchemaSegmentTests.IsInlineForm(WalSchemaSegmentTests.FirstPayload(segment)), $"{segment} does not start with an inline schema");
            // Met without Brotli: every entry leaves its null columns out, none is compressed.
            Assert.All(WalFiles.Payloads(segment), p => Assert.Equal(WalInsertForms.ProjectedFlag, p.Payload[2]));
        }
        var walBytes = segments.Sum(f => new FileInfo(f).Length);
        double totalRows = appends * rows;
        var walPerRow = walBytes / totalRows;
        var arrowPerRow = arrowBytes / totalRows;
        output.WriteLine($"rows/batch {rows}: WAL {walPerRow:F0} B/row, Arrow data {arrowPerRow:F0} B/row, ratio {walPerRow / arrowPerRow:F2}");
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "walschema-size.txt"),
            $"rows/batch {rows}: WAL {walPerRow:F0} B/row, Arrow data {arrowPerRow:F0} B/row, ratio {walPerRow / arrowPerRow:F2}{Environment.NewLine}");
        Assert.True(walPerRow <= 1.5 * arrowPerRow, $"WAL {walPerRow:F0} B/row > 1.5 × Arrow {arrowPerRow:F0} B/row");
    }
}
