using Apache.Arrow;
using Apache.Arrow.Types;
using CsCheck;
using TimeFusion.Ingest;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Ingest;

/// <summary>
/// The validator checks a JSON column with one reader over all its rows (and fills flattened attribute columns in the
/// same pass), falling back to row by row only when that pass cannot vouch for every row. Whatever the rows — documents
/// side by side that read as one (<c>1</c> then <c>2</c>), whitespace, empty values, two documents in one row, objects
/// left open into the next row, null rows that still hold bytes — the outcome must be the one of checking each row on
/// its own: the same first bad row named, or the same filled columns.
/// </summary>
public sealed class JsonColumnCheckPropertyTests
{
    private static readonly TableSchema Schema = OtelLogsAndSpans.Schema;
    private static readonly TimestampType Micros = new(TimeUnit.Microsecond, "UTC");

    private static readonly string[] Fragments =
    [
        "{}", "1", "23", "4.5", "true", "false", "null", "\"s\"", "[1]", " {} ", "\t[] ", "[1,[2,{}]]",
        """{"url.path":"/a"}""", """{"http.response.status_code":404,"x":[1,2]}""", """{"http.response.status_code":"503"}""",
        """{"url\u002epath":"/esc"}""", """{"service.name":"shop"}""", """{"url.path":{"nested":1}}""",
        // not one document
        "", " ", "{", "}", "]", "1 2", "{} x", "{} {}", """{"a":1""", "\"", "tru", "{\"a\":", ",",
    ];

    /// <summary>A row: a fragment index, or null; a null row may carry a fragment's bytes anyway (Arrow allows it).</summary>
    private sealed record Row(int Fragment, bool Null, bool NullWithBytes)
    {
        public string Text => Null && !NullWithBytes ? "" : Fragments[Fragment];
    }

    private static readonly Gen<Row> GenRow = Gen.Select(Gen.Int[0, Fragments.Length - 1], Gen.Int[0, 9], Gen.Int[0, 9])
        .Select((f, n, b) => new Row(f, n == 0, n == 0 && b == 0));

    // Mostly valid rows, so that whole columns pass often enough to compare their filled values.
    private static readonly Gen<Row> GenValidRow = Gen.Int[0, 17].Select(f => new Row(f, false, false));
    private static readonly Gen<Row> GenMostlyValidRow = Gen.Frequency((6, GenValidRow), (1, GenRow));
    private static readonly Gen<Row> GenRarelyBadRow = Gen.Frequency((30, GenValidRow), (1, GenRow));

    [Fact]
    public void One_reader_over_a_column_says_what_row_by_row_checking_says()
    {
        // body mostly valid, so that attributes' own errors (the last row's trailing data, too) are reached often.
        Gen.Select(GenRarelyBadRow.Array[1, 40], GenMostlyValidRow.Array[1, 40], GenRow).Sample((body, attributes, last) =>
        {
            var n = Math.Min(body.Length, attributes.Length);
            body = body[..n];
            attributes = attributes[..n];
            attributes[^1] = last;
            var expectedError = FirstBadRow(body, "body") ?? FirstBadRow(attributes, "attributes");
            ValidatedBatch? validated = null;
            string? error = null;
            try
            {
                validated = BatchValidator.Validate(Batch(body, attributes), Schema, "p", new IngestOptions());
            }
            catch (BatchRejectedException e)
            {
                error = e.Message;
            }
            if (expectedError is not null)
            {
                Assert.NotNull(error);
                Assert.StartsWith(expectedError, error);
                return;
            }
            Assert.Null(error);
            // Each row validated alone (a one-row column: no neighbour to read into) gives the same flattened values.
            foreach (var name in new[] { "attributes___url___path", "attributes___http___response___status_code", "resource___service___name" })
            {
                var column = validated!.Batch.Column(Schema.IndexOf(name));
                for (var r = 0; r < n; r++)
                {
                    var alone = BatchValidator.Validate(Batch([body[r]], [attributes[r]]), Schema, "p", new IngestOptions()).Batch.Column(Schema.IndexOf(name));
                    Assert.Equal(Cell(alone, 0), Cell(column, r));
                }
            }
        }, iter: 3_000);
    }

    private static object? Cell(IArrowArray array, int row) => array switch
    {
        StringArray s => s.GetString(row),
        Int32Array i => i.GetValue(row),
        _ => throw new InvalidOperationException(array.GetType().Name),
    };

    private static string? FirstBadRow(Row[] rows, string column)
    {
        for (var r = 0; r < rows.Length; r++)
        {
            if (!rows[r].Null && !JsonValues.IsDocument(System.Text.Encoding.UTF8.GetBytes(rows[r].Text), out _))
                return $"row {r}, column '{column}': invalid input syntax for type json";
        }
        return null;
    }

    private static RecordBatch Batch(Row[] body, Row[] attributes)
    {
        var n = body.Length;
        var ts = new TimestampArray.Builder(Micros);
        var ids = new StringArray.Builder();
        for (var i = 0; i < n; i++)
        {
            ts.Append(new DateTimeOffset(2026, 12, 1, 10, 0, i % 60, TimeSpan.Zero));
            ids.Append("r" + i);
        }
        var fields = new List<Field>
        {
            new("timestamp", Micros, false), new("id", StringType.Default, false),
            new("body", StringType.Default, true), new("attributes", StringType.Default, true),
        };
        return new RecordBatch(new Schema(fields, null), [ts.Build(), ids.Build(), Strings(body), Strings(attributes)], n);
    }

    /// <summary>Built by hand so that a null row can keep its bytes (a builder would give it none).</summary>
    private static StringArray Strings(Row[] rows)
    {
        var data = new List<byte>();
        var offsets = new List<int> { 0 };
        var validity = new byte[(rows.Length + 7) / 8];
        var nulls = 0;
        for (var i = 0; i < rows.Length; i++)
        {
            data.AddRange(System.Text.Encoding.UTF8.GetBytes(rows[i].Text));
            offsets.Add(data.Count);
            if (rows[i].Null) nulls++;
            else validity[i / 8] |= (byte)(1 << (i % 8));
        }
        return new StringArray(rows.Length, new ArrowBuffer(offsets.SelectMany(BitConverter.GetBytes).ToArray()), new ArrowBuffer(data.ToArray()),
            new ArrowBuffer(validity), nulls, 0);
    }
}
