using System.Globalization;
using Apache.Arrow;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>
/// The statistics of one column of an exported file, gathered from its Arrow arrays or from the per-row-group
/// statistics of its Parquet footer (<see cref="ParquetFooterStatistics"/>, the <c>AddNullCount</c>/<c>AddBounds</c> methods) — the same
/// <see cref="ColumnStats"/> DuckDB's <c>COPY … RETURN_STATS</c> gives through <see cref="ParquetStatsParser"/>: null
/// count and min/max for primitive columns (strings compared as UTF-8 bytes, as Parquet and DuckDB order them, and
/// truncated like the parser does), a null count alone for binary columns, nothing for list columns.
/// </summary>
internal sealed class ArrowColumnStatistics(ColumnType type, int maxStringLength)
{
    private long _nulls;
    private bool _any;
    private long _minLong = long.MaxValue, _maxLong = long.MinValue;
    private double _minDouble = double.PositiveInfinity, _maxDouble = double.NegativeInfinity;
    private bool _anyDouble;
    private bool _sawFalse, _sawTrue;
    private byte[]? _minBytes, _maxBytes;

    /// <summary>The column's type.</summary>
    public ColumnType Type => type;

    /// <summary>Whether the column's statistics have bounds (binary and list columns: none).</summary>
    public bool HasBounds => type is not (ColumnType.Binary or ColumnType.Utf8List);

    /// <summary>Takes in a part's null count (read from a Parquet footer, <see cref="ParquetFooterStatistics"/>).</summary>
    public void AddNullCount(long nulls) => _nulls += nulls;

    /// <summary>Takes in a part's bounds of an integer, timestamp or date column.</summary>
    public void AddBounds(long min, long max)
    {
        if (min < _minLong) _minLong = min;
        if (max > _maxLong) _maxLong = max;
        _any = true;
    }

    /// <summary>Takes in a part's bounds of a float column (NaN left out, as Parquet writers do).</summary>
    public void AddBounds(double min, double max)
    {
        _any = true;
        if (double.IsNaN(min) || double.IsNaN(max))
            return;
        _anyDouble = true;
        if (min < _minDouble) _minDouble = min;
        if (max > _maxDouble) _maxDouble = max;
    }

    /// <summary>Takes in a part's bounds of a boolean column.</summary>
    public void AddBounds(bool min, bool max)
    {
        if (!min) _sawFalse = true;
        if (max) _sawTrue = true;
        _any = true;
    }

    /// <summary>Takes in a part's bounds of a text column (UTF-8 bytes; copied).</summary>
    public void AddBounds(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max)
    {
        if (_minBytes is null || min.SequenceCompareTo(_minBytes) < 0)
            _minBytes = min.ToArray();
        if (_maxBytes is null || max.SequenceCompareTo(_maxBytes) > 0)
            _maxBytes = max.ToArray();
        _any = true;
    }

    /// <summary>Takes in the values of <paramref name="array"/> (a column of the table's canonical Arrow type).</summary>
    public void Add(IArrowArray array)
    {
        _nulls += array.NullCount;
        if (array.NullCount == array.Length)
            return;
        switch (array)
        {
            case Int64Array a: AddIntegers(a.Values, a); break;
            case TimestampArray a: AddIntegers(a.Values, a); break;
            case Int32Array a: AddIntegers(a.Values, a); break;
            case Date32Array a: AddIntegers(a.Values, a); break;
            case DoubleArray a: AddDoubles(a); break;
            case BooleanArray a: AddBooleans(a); break;
            case StringArray a when type is ColumnType.Utf8 or ColumnType.Json: AddStrings(a); break;
        }
    }

    // Integers, timestamps and dates: min/max as longs.
    private void AddIntegers<T>(ReadOnlySpan<T> values, IArrowArray array) where T : struct, System.Numerics.IBinaryInteger<T>
    {
        long min = _minLong, max = _maxLong;
        var noNulls = array.NullCount == 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (!noNulls && array.IsNull(i))
                continue;
            var v = long.CreateTruncating(values[i]);
            if (v < min) min = v;
            if (v > max) max = v;
        }
        (_minLong, _maxLong, _any) = (min, max, true);
    }

    private void AddDoubles(DoubleArray array)
    {
        var values = array.Values;
        var noNulls = array.NullCount == 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (!noNulls && array.IsNull(i))
                continue;
            var v = values[i];
            if (double.IsNaN(v))
                continue; // Parquet writers leave NaN out of min/max
            _anyDouble = true;
            if (v < _minDouble) _minDouble = v;
            if (v > _maxDouble) _maxDouble = v;
        }
        _any = true;
    }

    private void AddBooleans(BooleanArray array)
    {
        for (var i = 0; i < array.Length && !(_sawFalse && _sawTrue); i++)
        {
            if (array.GetValue(i) is not { } v)
                continue;
            if (v) _sawTrue = true;
            else _sawFalse = true;
        }
        _any = true;
    }

    private void AddStrings(StringArray array)
    {
        ReadOnlySpan<byte> min = _minBytes, max = _maxBytes;
        int minAt = -1, maxAt = -1;
        var first = _minBytes is null;
        var noNulls = array.NullCount == 0;
        // The spans once, not per value (GetBytes reads both and the validity bit each time): offsets are the slice's,
        // pointing into the whole value buffer.
        var offsets = array.ValueOffsets;
        var data = array.ValueBuffer.Span;
        for (var i = 0; i < array.Length; i++)
        {
            if (!noNulls && array.IsNull(i))
                continue;
            var v = data[offsets[i]..offsets[i + 1]];
            if (first)
            {
                min = max = v;
                minAt = maxAt = i;
                first = false;
                continue;
            }
            if (v.SequenceCompareTo(max) > 0)
            {
                max = v;
                maxAt = i;
            }
            else if (v.SequenceCompareTo(min) < 0)
            {
                min = v;
                minAt = i;
            }
        }
        // Kept as copies: the array's memory belongs to the tail.
        if (minAt >= 0)
            _minBytes = min.ToArray();
        if (maxAt >= 0)
            _maxBytes = max.ToArray();
        _any = true;
    }

    /// <summary>The statistics of every value taken in.</summary>
    public ColumnStats Result()
    {
        switch (type)
        {
            case ColumnType.Utf8List:
                return new ColumnStats(null, null, null);
            case ColumnType.Binary:
                return new ColumnStats(_nulls, null, null);
        }
        if (!_any)
            return new ColumnStats(_nulls, null, null);
        object? min = null, max = null;
        switch (type)
        {
            case ColumnType.Int32 or ColumnType.Int64:
                (min, max) = (_minLong, _maxLong);
                break;
            case ColumnType.TimestampUs:
                (min, max) = (Timestamp(_minLong), Timestamp(_maxLong));
                break;
            case ColumnType.Date:
                (min, max) = (Date(_minLong), Date(_maxLong));
                break;
            case ColumnType.Float64 when _anyDouble:
                (min, max) = (Finite(_minDouble), Finite(_maxDouble));
                break;
            case ColumnType.Boolean when _sawFalse || _sawTrue:
                (min, max) = (!_sawFalse, _sawTrue);
                break;
            case ColumnType.Utf8 or ColumnType.Json when _minBytes is not null && _maxBytes is not null:
                min = ParquetStatsParser.Truncate(System.Text.Encoding.UTF8.GetString(_minBytes), isMax: false, maxStringLength);
                max = ParquetStatsParser.Truncate(System.Text.Encoding.UTF8.GetString(_maxBytes), isMax: true, maxStringLength);
                break;
        }
        return new ColumnStats(_nulls, min, max);
    }

    private static object? Finite(double d) => double.IsFinite(d) ? d : null;

    // Values .NET cannot show (beyond years 1–9999) get no bound, as a value the parser cannot read does: never a failed export.
    private static readonly long MinMicros = (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / 10;
    private static readonly long MaxMicros = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / 10;
    private static readonly int EpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static string? Timestamp(long micros) => micros < MinMicros || micros > MaxMicros
        ? null
        : DateTimeOffset.UnixEpoch.AddTicks(micros * 10).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string? Date(long days) => EpochDay + days < DateOnly.MinValue.DayNumber || EpochDay + days > DateOnly.MaxValue.DayNumber
        ? null
        : DateOnly.FromDayNumber(EpochDay + (int)days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
