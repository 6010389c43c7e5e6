using Apache.Arrow;
using CsCheck;
using Google.Protobuf;
using TimeFusion.Otlp.Collector.Logs.V1;
using TimeFusion.Otlp.Collector.Trace.V1;
using TimeFusion.Otlp.Logs.V1;
using TimeFusion.Otlp.Common.V1;
using TimeFusion.Otlp.Resource.V1;
using TimeFusion.Otlp.Trace.V1;
using TimeFusion.Silo.Protocol.Otlp;
using TimeFusion.Silo.Protocol.Otlp.Mapping;
using TimeFusion.Silo.Protocol.Otlp.Mapping.Wire;
using Status = TimeFusion.Otlp.Trace.V1.Status;

namespace TimeFusion.Tests.Otlp;

/// <summary>
/// The fast OTLP decoders (protobuf bytes straight into columns, <see cref="SpanWireMapper"/>, <see cref="LogWireMapper"/>)
/// against the reference: the generated messages mapped by <see cref="SpanMapper"/> and <see cref="LogMapper"/>. For random exports — resources, flattened and other attribute
/// keys, every kind of value (nested arrays and key-value lists, bytes, non-finite doubles, numeric strings, missing
/// values), events, links, log bodies and severities, refused items (bad id lengths, zero ids, times past 2262), non-ASCII
/// text — both give the same batch, column by column (a log record's <c>id</c> is a fresh UUIDv7 per export: only its
/// presence is compared), and the same refusals. Request shapes the fast decoder leaves to the generated one (a field
/// protobuf merges, invalid UTF-8, malformed bytes) give what the generated decoder gives.
/// </summary>
public sealed class OtlpWireDecodingPropertyTests
{
    private static readonly string[] Keys =
    [
        "http.response.status_code", "http.request.method", "url.path", "server.port", "service.name", "service.version",
        "db.system.name", "user.id", "exception.type", "k", "", "ключ", "emoji 😀", "a\"b", "http.route",
    ];

    private static readonly Gen<string> GenText = Gen.OneOf(
        Gen.OneOfConst("", "GET", "200", " 404 ", "-7", "9223372036854775808", "1.5", "true", "naïve ✓", "😀 \u0000 \t \" \\ </script>"),
        Gen.String[0, 20]);

    private static readonly Gen<AnyValue> GenScalar = Gen.OneOf(
        GenText.Select(s => new AnyValue { StringValue = s }),
        Gen.Long.Select(v => new AnyValue { IntValue = v }),
        Gen.Int[-3, 70_000].Select(v => new AnyValue { IntValue = v }),
        Gen.Bool.Select(v => new AnyValue { BoolValue = v }),
        Gen.Double.Select(v => new AnyValue { DoubleValue = v }),
        Gen.OneOfConst(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 1e-300).Select(v => new AnyValue { DoubleValue = v }),
        Gen.Byte.Array[0, 12].Select(b => new AnyValue { BytesValue = ByteString.CopyFrom(b) }),
        Gen.Const(new AnyValue()));

    private static readonly Gen<AnyValue> GenValue = Nested(Nested(Nested(GenScalar)));

    /// <summary>Values whose arrays and key-value lists hold values of <paramref name="inner"/>.</summary>
    private static Gen<AnyValue> Nested(Gen<AnyValue> inner) => Gen.Frequency(
        (8, GenScalar),
        (1, inner.Array[0, 3].Select(values => new AnyValue { ArrayValue = new ArrayValue { Values = { values } } })),
        (1, Gen.Select(Gen.OneOfConst(Keys), inner).Array[0, 3]
            .Select(kvs => new AnyValue { KvlistValue = new KeyValueList { Values = { kvs.Select(kv => new KeyValue { Key = kv.Item1, Value = kv.Item2 }) } } })));

    private static readonly Gen<KeyValue> GenAttribute = Gen.Select(Gen.OneOf(Gen.OneOfConst(Keys), Gen.String[0, 8]), GenValue, Gen.Int[0, 15])
        .Select((key, value, noValue) => noValue == 0 ? new KeyValue { Key = key } : new KeyValue { Key = key, Value = value });

    private static readonly Gen<ByteString> GenTraceId = Gen.Frequency(
        (12, Gen.Byte.Array[16].Select(b => ByteString.CopyFrom(b))),
        (1, Gen.Const(ByteString.CopyFrom(new byte[16]))),
        (1, Gen.Byte.Array[0, 20].Select(b => ByteString.CopyFrom(b))));

    private static readonly Gen<ByteString> GenSpanId = Gen.Frequency(
        (12, Gen.Byte.Array[8].Select(b => ByteString.CopyFrom(b))),
        (1, Gen.Const(ByteString.CopyFrom(new byte[8]))),
        (1, Gen.Const(ByteString.Empty)),
        (1, Gen.Byte.Array[0, 10].Select(b => ByteString.CopyFrom(b))));

    private static readonly Gen<ulong> GenNanos = Gen.Frequency(
        (10, Gen.ULong[1_600_000_000_000_000_000UL, 1_900_000_000_000_000_000UL]),
        (1, Gen.OneOfConst(0UL, ulong.MaxValue, 9_300_000_000_000_000_000UL)));

    private static readonly Gen<Span.Types.Event> GenEvent = Gen.Select(GenText, GenNanos, GenAttribute.Array[0, 3])
        .Select((name, time, attributes) => new Span.Types.Event { Name = name, TimeUnixNano = time, Attributes = { attributes } });

    private static readonly Gen<Span.Types.Link> GenLink = Gen.Select(GenTraceId, GenSpanId, GenText, GenAttribute.Array[0, 2], Gen.UInt)
        .Select((trace, span, state, attributes, flags) => new Span.Types.Link { TraceId = trace, SpanId = span, TraceState = state, Attributes = { attributes }, Flags = flags });

    private static readonly Gen<Span> GenSpan = Gen.Select(
            Gen.Select(GenTraceId, GenSpanId, Gen.Frequency((3, Gen.Const(ByteString.Empty)), (3, GenSpanId)), GenText, GenText),
            Gen.Select(Gen.Int[-1, 7], GenNanos, GenNanos, Gen.OneOfConst(0u, 1u, 0x101u, 0x301u, 0xFFFFFFFFu)),
            Gen.Select(Gen.Int[-1, 4], GenText, Gen.Int[0, 3]),
            Gen.Select(GenAttribute.Array[0, 8], GenEvent.Array[0, 2], GenLink.Array[0, 2]))
        .Select((ids, times, status, lists) =>
        {
            var span = new Span
            {
                TraceId = ids.Item1, SpanId = ids.Item2, ParentSpanId = ids.Item3, TraceState = ids.Item4, Name = ids.Item5,
                Kind = (Span.Types.SpanKind)times.Item1, StartTimeUnixNano = times.Item2, EndTimeUnixNano = times.Item3, Flags = times.Item4,
                Attributes = { lists.Item1 }, Events = { lists.Item2 }, Links = { lists.Item3 },
            };
            if (status.Item3 > 0) span.Status = new Status { Code = (Status.Types.StatusCode)status.Item1, Message = status.Item2 };
            return span;
        });

    private static readonly Gen<ExportTraceServiceRequest> GenRequest = Gen.Select(GenAttribute.Array[0, 8], Gen.Int[0, 3], GenSpan.Array[0, 12].Array[0, 3])
        .Array[0, 3]
        .Select(resources =>
        {
            var request = new ExportTraceServiceRequest();
            foreach (var (attributes, shape, scopes) in resources)
            {
                var resourceSpans = new ResourceSpans();
                if (shape > 0) resourceSpans.Resource = new Resource { Attributes = { attributes } };
                foreach (var spans in scopes)
                    resourceSpans.ScopeSpans.Add(new ScopeSpans { Scope = new InstrumentationScope { Name = "s" }, Spans = { spans } });
                request.ResourceSpans.Add(resourceSpans);
            }
            return request;
        });

    private static readonly Gen<LogRecord> GenLog = Gen.Select(
            Gen.Select(GenNanos, Gen.Frequency((3, GenNanos), (1, Gen.Const(0UL))), Gen.Int[-1, 26], Gen.OneOfConst("", "INFO", "warn", "Ошибка")),
            Gen.Select(Gen.Frequency((2, GenValue.Select(v => (AnyValue?)v)), (1, Gen.Const((AnyValue?)null))), GenAttribute.Array[0, 6], Gen.UInt),
            Gen.Select(Gen.Frequency((3, GenTraceId), (1, Gen.Const(ByteString.Empty))), GenSpanId, Gen.OneOfConst("", "checkout.done")))
        .Select((times, content, ids) =>
        {
            var log = new LogRecord
            {
                TimeUnixNano = times.Item1 % 3 == 0 ? 0 : times.Item1, ObservedTimeUnixNano = times.Item2, SeverityNumber = (SeverityNumber)times.Item3,
                SeverityText = times.Item4, Attributes = { content.Item2 }, Flags = content.Item3, TraceId = ids.Item1, SpanId = ids.Item2, EventName = ids.Item3,
            };
            if (content.Item1 is { } body) log.Body = body;
            return log;
        });

    private static readonly Gen<ExportLogsServiceRequest> GenLogsRequest = Gen.Select(GenAttribute.Array[0, 8], Gen.Int[0, 3], GenLog.Array[0, 12].Array[0, 3])
        .Array[0, 3]
        .Select(resources =>
        {
            var request = new ExportLogsServiceRequest();
            foreach (var (attributes, shape, scopes) in resources)
            {
                var resourceLogs = new ResourceLogs();
                if (shape > 0) resourceLogs.Resource = new Resource { Attributes = { attributes } };
                foreach (var records in scopes)
                    resourceLogs.ScopeLogs.Add(new ScopeLogs { Scope = new InstrumentationScope { Name = "s" }, LogRecords = { records } });
                request.ResourceLogs.Add(resourceLogs);
            }
            return request;
        });

    [Fact]
    public void Log_records_decoded_from_the_wire_equal_log_records_mapped_from_generated_messages() =>
        Gen.Select(GenLogsRequest, Gen.Int[0, 40], Gen.Long[0, 9_000_000_000_000_000]).Sample((request, offset, now) =>
        {
            var bytes = request.ToByteArray();
            var buffer = new byte[offset + bytes.Length + 7];
            System.Array.Fill(buffer, (byte)0xFF);
            bytes.CopyTo(buffer, offset);
            AssertSame(LogMapper.Map(request, now), LogWireMapper.Map(buffer, offset, bytes.Length, now));
        }, iter: 400);

    [Fact]
    public void Spans_decoded_from_the_wire_equal_spans_mapped_from_generated_messages() =>
        Gen.Select(GenRequest, Gen.Int[0, 40]).Sample((request, offset) =>
        {
            var bytes = request.ToByteArray();
            // The request inside a larger array (as in a pooled buffer): garbage before and after must not be read.
            var buffer = new byte[offset + bytes.Length + 7];
            System.Array.Fill(buffer, (byte)0xFF);
            bytes.CopyTo(buffer, offset);
            AssertSame(SpanMapper.Map(request), SpanWireMapper.Map(buffer, offset, bytes.Length));
        }, iter: 400);

    [Fact]
    public void Attribute_json_and_flattened_columns_match_for_every_kind_of_value() =>
        Gen.Select(Gen.OneOfConst(Keys), GenValue).Array[1, 30].Sample(attributes =>
        {
            var span = new Span { TraceId = ByteString.CopyFrom(new byte[16] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }), SpanId = ByteString.CopyFrom(new byte[8] { 1, 2, 3, 4, 5, 6, 7, 8 }) };
            span.Attributes.Add(attributes.Select(a => new KeyValue { Key = a.Item1, Value = a.Item2 }));
            var request = new ExportTraceServiceRequest
            {
                ResourceSpans = { new ResourceSpans { Resource = new Resource { Attributes = { span.Attributes } }, ScopeSpans = { new ScopeSpans { Spans = { span } } } } },
            };
            var bytes = request.ToByteArray();
            AssertSame(SpanMapper.Map(request), SpanWireMapper.Map(bytes, 0, bytes.Length));
        }, iter: 300);

    [Fact]
    public void Shapes_left_to_the_generated_decoder_are_mapped_as_it_maps_them()
    {
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray()), SpanId = ByteString.CopyFrom(Enumerable.Range(1, 8).Select(i => (byte)i).ToArray()),
            Name = "first", Status = new Status { Code = Status.Types.StatusCode.Ok, Message = "fine" },
            Attributes = { new KeyValue { Key = "http.response.status_code", Value = new AnyValue { IntValue = 200 } } },
        };
        // Protobuf merges a message sent twice: the second status overrides the code only, the second value of an
        // attribute replaces the oneof, and the later name wins.
        var spanBytes = span.ToByteArray().Concat(new Span { Name = "second", Status = new Status { Code = Status.Types.StatusCode.Error } }.ToByteArray()).ToArray();
        var kvBytes = new KeyValue { Key = "url.path", Value = new AnyValue { StringValue = "/a" } }.ToByteArray()
            .Concat(new KeyValue { Value = new AnyValue { IntValue = 5 } }.ToByteArray()).ToArray();
        var withAttribute = spanBytes.Concat(Field(9, kvBytes)).ToArray();
        foreach (var shape in new[] { spanBytes, withAttribute })
        {
            var bytes = Field(1, Field(2, Field(2, shape)));
            Assert.Throws<WireFallbackException>(() => SpanWireMapper.Map(bytes, 0, bytes.Length));
            AssertSame(SpanMapper.Map(ExportTraceServiceRequest.Parser.ParseFrom(bytes)), OtlpProtobuf.Traces(bytes, 0, bytes.Length));
        }

        // Invalid UTF-8 in a name: whatever the generated decoder rules.
        var invalid = Field(1, Field(2, Field(2, span.ToByteArray().Concat(new byte[] { 42, 2, 0xC3, 0x28 }).ToArray())));
        Assert.Throws<WireFallbackException>(() => SpanWireMapper.Map(invalid, 0, invalid.Length));
        MappedRows? reference = null;
        Exception? referenceError = null;
        try
        {
            reference = SpanMapper.Map(ExportTraceServiceRequest.Parser.ParseFrom(invalid));
        }
        catch (Exception e)
        {
            referenceError = e;
        }
        if (reference is not null) AssertSame(reference, OtlpProtobuf.Traces(invalid, 0, invalid.Length));
        else Assert.NotNull(Record.Exception(() => OtlpProtobuf.Traces(invalid, 0, invalid.Length)));
        Assert.True(reference is not null || referenceError is not null);
    }

    [Fact]
    public void Malformed_bytes_are_refused_as_invalid_and_nothing_is_mapped() =>
        Gen.Select(GenRequest, Gen.Int[0, 1000], Gen.Byte).Sample((request, at, value) =>
        {
            var bytes = request.ToByteArray();
            if (bytes.Length == 0) return;
            var truncated = bytes[..(at % bytes.Length)];
            var corrupted = bytes.ToArray();
            corrupted[at % bytes.Length] = value;
            foreach (var body in new[] { truncated, corrupted })
            {
                ExportTraceServiceRequest? parsed = null;
                try
                {
                    parsed = ExportTraceServiceRequest.Parser.ParseFrom(body);
                }
                catch (InvalidProtocolBufferException)
                {
                }
                if (parsed is null)
                {
                    var e = Assert.Throws<OtlpFailureException>(() => OtlpProtobuf.Traces(body, 0, body.Length));
                    Assert.Equal(OtlpFailureKind.Invalid, e.Kind);
                }
                else
                {
                    AssertSame(SpanMapper.Map(parsed), OtlpProtobuf.Traces(body, 0, body.Length));
                }
            }
        }, iter: 300);

    /// <summary>A length-delimited field (tag and length from Google.Protobuf's writer).</summary>
    private static byte[] Field(int number, byte[] payload)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(number, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(payload));
        output.Flush();
        return stream.ToArray();
    }

    private static void AssertSame(MappedRows expected, MappedRows actual)
    {
        try
        {
            Assert.Equal(expected.Table, actual.Table);
            Assert.Equal(expected.Rejected, actual.Rejected);
            Assert.Equal(expected.Error, actual.Error);
            Assert.Equal(expected.Batch is null, actual.Batch is null);
            if (expected.Batch is null || actual.Batch is null) return;
            Assert.Equal(expected.Batch.Length, actual.Batch.Length);
            Assert.Equal(expected.Batch.Schema.FieldsList.Select(f => f.Name), actual.Batch.Schema.FieldsList.Select(f => f.Name));
            for (var c = 0; c < expected.Batch.ColumnCount; c++)
            {
                var name = expected.Batch.Schema.FieldsList[c].Name;
                var (e, a) = (expected.Batch.Column(c), actual.Batch.Column(c));
                Assert.Equal(e.NullCount, a.NullCount);
                if (name == "id" && expected.Batch.Schema.GetFieldIndex("kind") is var kind and >= 0
                    && ((StringArray)expected.Batch.Column(kind)).GetString(0) == "LOG")
                    continue; // a log record's id is drawn per export
                for (var i = 0; i < e.Length; i++)
                    Assert.True(Equals(Value(e, i), Value(a, i)), $"column {name}, row {i}: expected {Value(e, i)}, got {Value(a, i)}");
            }
        }
        finally
        {
            expected.Buffers?.Dispose();
            actual.Buffers?.Dispose();
        }
    }

    private static object? Value(IArrowArray array, int i) => array.IsNull(i) ? null : array switch
    {
        StringArray s => s.GetString(i),
        Int64Array l => l.GetValue(i),
        Int32Array n => n.GetValue(i),
        BooleanArray b => b.GetValue(i),
        TimestampArray t => t.GetValue(i),
        DoubleArray d => d.GetValue(i),
        _ => throw new InvalidOperationException(array.GetType().Name),
    };
}
