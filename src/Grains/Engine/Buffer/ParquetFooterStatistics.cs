using ParquetSharp;

namespace TimeFusion.Buffer;

/// <summary>
/// The Delta statistics of a file the flush wrote, read from the column-chunk statistics in its Parquet footer, which
/// the writer computes anyway (row groups are pruned with them): null counts summed, bounds merged over the row groups
/// (text as UTF-8 bytes, the Parquet order of the STRING type). Gathering them again from the Arrow arrays was 15–18 %
/// of the flush writer's CPU (docs/BENCHMARKS.md, session 15 `flushcpu`).
/// </summary>
internal static class ParquetFooterStatistics
{
    /// <summary>
    /// Feeds the footer's statistics of the file at <paramref name="path"/> into <paramref name="stats"/> (one per
    /// top-level column written, in order; each column one Parquet leaf). Returns, per column, whether the footer fell
    /// short: a row group without statistics, or with values but no bounds — the writer drops a bound longer than its
    /// <c>max_statistics_size</c> (4 KiB) where ours are truncated, and keeps none for a chunk of NaNs. Such a column's
    /// accumulator is left as it was (fresh): it must be fed from the arrays.
    /// </summary>
    public static bool[] Read(string path, ArrowColumnStatistics[] stats)
    {
        var fallShort = new bool[stats.Length];
        using var reader = new ParquetFileReader(path);
        using var file = reader.FileMetaData;
        if (file.NumColumns != stats.Length)
        {
            System.Array.Fill(fallShort, true);
            return fallShort;
        }
        // Per column first, so that a column found short part-way has fed nothing.
        var chunks = new ParquetSharp.Statistics?[file.NumRowGroups, stats.Length];
        var owned = new List<IDisposable>();
        try
        {
            for (var g = 0; g < file.NumRowGroups; g++)
            {
                var group = reader.RowGroup(g);
                owned.Add(group);
                var meta = group.MetaData;
                for (var c = 0; c < stats.Length; c++)
                {
                    var chunk = meta.GetColumnChunkMetaData(c);
                    owned.Add(chunk);
                    if (!chunk.IsStatsSet || chunk.Statistics is not { } s)
                        continue;
                    owned.Add(s);
                    chunks[g, c] = s;
                }
            }
            for (var c = 0; c < stats.Length; c++)
            {
                if (!stats[c].HasBounds)
                {
                    // Binary and list columns: a null count at most (lists none: Parquet counts empty lists too).
                    for (var g = 0; g < file.NumRowGroups && !fallShort[c]; g++)
                        fallShort[c] = chunks[g, c] is null;
                    if (!fallShort[c])
                        for (var g = 0; g < file.NumRowGroups; g++)
                            stats[c].AddNullCount(chunks[g, c]!.NullCount);
                    continue;
                }
                for (var g = 0; g < file.NumRowGroups && !fallShort[c]; g++)
                    fallShort[c] = chunks[g, c] is not { } s || (s.NumValues > 0 && !s.HasMinMax) || !Typed(stats[c].Type, s);
                if (fallShort[c])
                    continue;
                for (var g = 0; g < file.NumRowGroups; g++)
                    Add(stats[c], chunks[g, c]!);
            }
        }
        finally
        {
            for (var i = owned.Count - 1; i >= 0; i--)
                owned[i].Dispose();
        }
        return fallShort;
    }

    private static void Add(ArrowColumnStatistics stats, ParquetSharp.Statistics chunk)
    {
        stats.AddNullCount(chunk.NullCount);
        if (!chunk.HasMinMax)
            return;
        switch (chunk)
        {
            case Statistics<long> s: stats.AddBounds(s.Min, s.Max); break;
            case Statistics<int> s: stats.AddBounds(s.Min, s.Max); break;
            case Statistics<double> s: stats.AddBounds(s.Min, s.Max); break;
            case Statistics<bool> s: stats.AddBounds(s.Min, s.Max); break;
            case Statistics<ByteArray> s: stats.AddBounds(Bytes(s.Min), Bytes(s.Max)); break;
        }
    }

    /// <summary>Whether <paramref name="chunk"/> holds the physical type the Arrow writer gives a column of <paramref name="type"/>.</summary>
    private static bool Typed(Tables.ColumnType type, ParquetSharp.Statistics chunk) => (type, chunk) switch
    {
        (Tables.ColumnType.Int64 or Tables.ColumnType.TimestampUs, Statistics<long>) => true,
        (Tables.ColumnType.Int32 or Tables.ColumnType.Date, Statistics<int>) => true,
        (Tables.ColumnType.Float64, Statistics<double>) => true,
        (Tables.ColumnType.Boolean, Statistics<bool>) => true,
        (Tables.ColumnType.Utf8 or Tables.ColumnType.Json, Statistics<ByteArray>) => true,
        _ => false,
    };

    // A copy (one per row group and text column): no unsafe code outside the DuckDB layer (NativeBoundaryTests).
    private static byte[] Bytes(ByteArray value)
    {
        var bytes = new byte[value.Length];
        if (value.Length > 0)
            System.Runtime.InteropServices.Marshal.Copy(value.Pointer, bytes, 0, value.Length);
        return bytes;
    }
}
