using Apache.Arrow;
using Apache.Arrow.Types;
using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Ingest;

/// <summary>The validator fills null flattened attribute columns from the JSON <c>attributes</c> / <c>resource</c>.</summary>
public sealed class FlattenedAttributesTests
{
    private static readonly TableSchema Schema = OtelLogsAndSpans.Schema;
    private static readonly TimestampType Micros = new(TimeUnit.Microsecond, "UTC");

    private static RecordBatch Rows(string?[] attributes, string?[]? resource = null, (string Name, IArrowArray Values)? explicitColumn = null)
    {
        var n = attributes.Length;
        var ts = new TimestampArray.Builder(Micros);
        var ids = new StringArray.Builder();
        var attrs = new StringArray.Builder();
        var res = new StringArray.Builder();
        for (var i = 0; i < n; i++)
        {
            ts.Append(new DateTimeOffset(2026, 12, 1, 10, 0, i, TimeSpan.Zero));
            ids.Append("r" + i);
            if (attributes[i] is { } a) attrs.Append(a); else attrs.AppendNull();
            if (resource?[i] is { } r) res.Append(r); else res.AppendNull();
        }
        var fields = new List<Field>
        {
            new("timestamp", Micros, false), new("id", StringType.Default, false),
            new("attributes", StringType.Default, true), new("resource", StringType.Default, true),
        };
        var arrays = new List<IArrowArray> { ts.Build(), ids.Build(), attrs.Build(), res.Build() };
        if (explicitColumn is { } e)
        {
            fields.Add(new Field(e.Name, e.Values.Data.DataType, true));
            arrays.Add(e.Values);
        }
        return new RecordBatch(new Schema(fields, null), arrays, n);
    }

    private static IArrowArray Column(ValidatedBatch batch, string name) => batch.Batch.Column(Schema.IndexOf(name));

    [Fact]
    public void Fills_text_and_integer_columns_from_top_level_keys_of_attributes_and_resource()
    {
        var rows = BatchValidator.Validate(Rows(
            [
                """{"http.response.status_code": 404, "url.path": "/a", "nested": {"url.path": "ignored"}, "http.request.method": "GET"}""",
                """{"http.response.status_code": "503", "client.port": 99999999999, "url.full": 12.5, "network.peer.port": 8080}""",
                null,
                """[1, 2]""",
                """{"url\u002epath": "/escaped", "error.type": true, "http.response.status_code": {"x": 1}}""",
            ],
            ["""{"service.name": "shop", "telemetry.sdk.version": 2}""", null, null, null, null]), Schema, "p", new IngestOptions());
        var status = (Int32Array)Column(rows, "attributes___http___response___status_code");
        Assert.Equal([404, 503, null, null, null], Enumerable.Range(0, 5).Select(i => status.GetValue(i)).ToArray());
        var path = (StringArray)Column(rows, "attributes___url___path");
        Assert.Equal("/a,,,,/escaped", string.Join(",", Enumerable.Range(0, 5).Select(i => path.GetString(i))));
        Assert.Equal("GET", ((StringArray)Column(rows, "attributes___http___request___method")).GetString(0));
        Assert.True(((Int32Array)Column(rows, "attributes___client___port")).IsNull(1)); // does not fit an int
        Assert.Equal("12.5", ((StringArray)Column(rows, "attributes___url___full")).GetString(1));
        Assert.Equal(8080, ((Int32Array)Column(rows, "attributes___network___peer__port")).GetValue(1)); // the table's "__" name
        Assert.Equal("true", ((StringArray)Column(rows, "attributes___error___type")).GetString(4));
        Assert.Equal("shop", ((StringArray)Column(rows, "resource___service___name")).GetString(0));
        Assert.Equal("2", ((StringArray)Column(rows, "resource___telemetry___sdk___version")).GetString(0));
    }

    [Fact]
    public void A_supplied_value_wins_and_a_null_one_is_filled()
    {
        var supplied = new StringArray.Builder().Append("/given").AppendNull().Build();
        var rows = BatchValidator.Validate(Rows(["""{"url.path": "/json-0"}""", """{"url.path": "/json-1"}"""],
            explicitColumn: ("attributes___url___path", supplied)), Schema, "p", new IngestOptions());
        var path = (StringArray)Column(rows, "attributes___url___path");
        Assert.Equal("/given", path.GetString(0));
        Assert.Equal("/json-1", path.GetString(1));
    }

    [Fact]
    public void Switched_off_nothing_is_filled_but_json_is_still_checked()
    {
        var rows = BatchValidator.Validate(Rows(["""{"url.path": "/a"}"""]), Schema, "p", new IngestOptions { FlattenAttributes = false });
        Assert.True(Column(rows, "attributes___url___path").IsNull(0));
        var e = Assert.Throws<BatchRejectedException>(() => BatchValidator.Validate(Rows(["""{"url.path": "/a"}""", """{"url.path": """]), Schema, "p", new IngestOptions()));
        Assert.Equal(SqlState.InvalidTextRepresentation, e.SqlState);
        Assert.Contains("row 1", e.Message);
        Assert.Contains("'attributes'", e.Message);
        Assert.Throws<BatchRejectedException>(() => BatchValidator.Validate(Rows(["""{"a": 1} x"""]), Schema, "p", new IngestOptions()));
        Assert.Throws<BatchRejectedException>(() => BatchValidator.Validate(Rows(["""{"a": 1"""]), Schema, "p", new IngestOptions()));
    }
}
