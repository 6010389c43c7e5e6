using Apache.Arrow;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace TimeFusion.Bench.Limits;

/// <summary>Writes Arrow batches to one Parquet file with ParquetSharp's Arrow writer (zstd, threads), 122,880-row row groups.</summary>
public static class ParquetArrowWriter
{
    public const int RowGroupRows = 122_880;

    public static async Task<long> WriteAsync(string path, IAsyncEnumerable<RecordBatch> batches)
    {
        using var properties = new WriterPropertiesBuilder().Compression(Compression.Zstd).Build();
        using var arrowProperties = new ArrowWriterPropertiesBuilder().UseThreads(true).Build();
        FileWriter? writer = null;
        var pending = new List<RecordBatch>();
        long pendingRows = 0, rows = 0;
        void Flush()
        {
            if (pendingRows == 0 || writer is null) return;
            writer.NewRowGroup();
            for (var c = 0; c < pending[0].ColumnCount; c++)
                writer.WriteColumnChunk(new ChunkedArray(pending.Select(b => b.Column(c)).ToList()));
            pending.Clear();
            pendingRows = 0;
        }
        try
        {
            await foreach (var batch in batches)
            {
                writer ??= new FileWriter(path, batch.Schema, properties, arrowProperties);
                pending.Add(batch);
                pendingRows += batch.Length;
                rows += batch.Length;
                if (pendingRows >= RowGroupRows) Flush();
            }
            Flush();
            writer?.Close();
        }
        finally
        {
            writer?.Dispose();
        }
        return rows;
    }
}
