using Npgsql;
using NpgsqlTypes;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>Every supported type through Npgsql: parameters (binary, as Npgsql sends them) and results in binary and text.</summary>
[Collection(PostgresCollection.Name)]
public sealed class NpgsqlTypeTests(PostgresServerFixture fixture)
{
    public static TheoryData<string, object, NpgsqlDbType, string> Values => new()
    {
        // sql cast, value, parameter type, expected PostgreSQL text output
        { "BOOLEAN", true, NpgsqlDbType.Boolean, "t" },
        { "BOOLEAN", false, NpgsqlDbType.Boolean, "f" },
        { "SMALLINT", (short)-12345, NpgsqlDbType.Smallint, "-12345" },
        { "INTEGER", int.MinValue, NpgsqlDbType.Integer, "-2147483648" },
        { "BIGINT", long.MaxValue, NpgsqlDbType.Bigint, "9223372036854775807" },
        { "REAL", 1.5f, NpgsqlDbType.Real, "1.5" },
        { "DOUBLE", 1e20, NpgsqlDbType.Double, "1e+20" },
        { "DOUBLE", -0.000123, NpgsqlDbType.Double, "-0.000123" },
        { "DECIMAL(18,4)", 12345.6789m, NpgsqlDbType.Numeric, "12345.6789" },
        { "DECIMAL(18,4)", -0.0001m, NpgsqlDbType.Numeric, "-0.0001" },
        { "DECIMAL(38,10)", 123456789012345678.0123456789m, NpgsqlDbType.Numeric, "123456789012345678.0123456789" },
        { "VARCHAR", "héllo \"wörld\" ☃", NpgsqlDbType.Text, "héllo \"wörld\" ☃" },
        { "VARCHAR", "", NpgsqlDbType.Varchar, "" },
        { "TIMESTAMP", new DateTime(2024, 2, 29, 23, 59, 58, 123).AddTicks(4560), NpgsqlDbType.Timestamp, "2024-02-29 23:59:58.123456" },
        { "TIMESTAMP", new DateTime(1969, 7, 20, 20, 17, 40), NpgsqlDbType.Timestamp, "1969-07-20 20:17:40" },
        { "TIMESTAMPTZ", new DateTime(2021, 6, 1, 12, 0, 0, DateTimeKind.Utc).AddTicks(10), NpgsqlDbType.TimestampTz, "2021-06-01 12:00:00.000001+00" },
        { "DATE", new DateOnly(1999, 12, 31), NpgsqlDbType.Date, "1999-12-31" },
        { "DATE", new DateOnly(2100, 3, 1), NpgsqlDbType.Date, "2100-03-01" },
        { "TIME", new TimeOnly(13, 14, 15, 16), NpgsqlDbType.Time, "13:14:15.016" },
        { "UUID", Guid.Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), NpgsqlDbType.Uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" },
        { "BLOB", new byte[] { 0, 1, 0xde, 0xad, 0xbe, 0xef, 255 }, NpgsqlDbType.Bytea, "\\x0001deadbeefff" },
        { "INTERVAL", TimeSpan.FromHours(26) + TimeSpan.FromMilliseconds(500), NpgsqlDbType.Interval, "1 day 02:00:00.5" },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public async Task Value_round_trips_in_binary_and_text(string cast, object value, NpgsqlDbType type, string expectedText)
    {
        await using var connection = await fixture.OpenAsync();
        // Binary parameter in, binary result out.
        await using (var cmd = new NpgsqlCommand($"SELECT $1::{cast} AS v", connection))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            AssertEquivalent(value, reader.GetValue(0));
        }
        // Same value back in text format (AllResultTypesAreUnknown asks for text): the exact PostgreSQL text form.
        await using (var cmd = new NpgsqlCommand($"SELECT $1::{cast} AS v", connection) { AllResultTypesAreUnknown = true })
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(expectedText, reader.GetString(0));
        }
        // And through the simple query protocol (text), the way psql sees it.
        await using (var batch = new NpgsqlBatch(connection))
        {
            // A literal built from the text form exercises the text parameter-free path end to end.
            var literal = cast == "BLOB"
                ? $"from_hex('{expectedText[2..]}')" // DuckDB's blob literal syntax differs from bytea's
                : $"'{expectedText.Replace("'", "''")}'::{cast}";
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {literal} AS v"));
            await using var reader = await batch.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            AssertEquivalent(value, reader.GetValue(0));
        }
    }

    [Fact]
    public async Task Json_and_jsonb_come_back_as_jsonb()
    {
        await using var connection = await fixture.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT $1::JSON AS j, '{\"k\": [1, 2]}'::JSON AS lit", connection);
        cmd.Parameters.Add(new NpgsqlParameter { Value = "{\"a\":{\"b\":\"c\"}}", NpgsqlDbType = NpgsqlDbType.Jsonb });
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("jsonb", reader.GetDataTypeName(0));
        Assert.Equal("{\"a\":{\"b\":\"c\"}}", reader.GetFieldValue<string>(0));
        Assert.Equal("{\"k\": [1, 2]}", reader.GetFieldValue<string>(1));
    }

    [Fact]
    public async Task Text_arrays_round_trip_with_nulls_and_quoting()
    {
        await using var connection = await fixture.OpenAsync();
        string?[] value = ["plain", "with space", "", "quote\"back\\slash", null, "NULL", "{braces},comma"];
        await using (var cmd = new NpgsqlCommand("SELECT $1::VARCHAR[] AS a", connection))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("text[]", reader.GetDataTypeName(0));
            Assert.Equal(value, reader.GetFieldValue<string?[]>(0));
        }
        await using (var cmd = new NpgsqlCommand("SELECT $1::VARCHAR[] AS a", connection) { AllResultTypesAreUnknown = true })
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("{plain,\"with space\",\"\",\"quote\\\"back\\\\slash\",NULL,\"NULL\",\"{braces},comma\"}", reader.GetString(0));
        }
        await using (var cmd = new NpgsqlCommand("SELECT [1, 2, 3]::INT[] AS ints, []::VARCHAR[] AS empty", connection))
        {
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal([1, 2, 3], reader.GetFieldValue<int[]>(0));
            Assert.Empty(reader.GetFieldValue<string[]>(1));
        }
    }

    [Fact]
    public async Task Table_with_every_type_round_trips_through_inserts_and_selects()
    {
        await using var connection = await fixture.OpenAsync();
        await Exec(connection, "CREATE OR REPLACE TABLE all_types (b BOOLEAN, i2 SMALLINT, i4 INTEGER, i8 BIGINT, f4 REAL, f8 DOUBLE, n DECIMAL(20,5), t VARCHAR, ts TIMESTAMP, tz TIMESTAMPTZ, d DATE, u UUID, j JSON, bin BLOB, arr VARCHAR[])");
        var ts = new DateTime(2020, 1, 2, 3, 4, 5, 6);
        var tz = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var guid = Guid.NewGuid();
        await using (var insert = new NpgsqlCommand("INSERT INTO all_types VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15), (NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL)", connection))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = true });
            insert.Parameters.Add(new NpgsqlParameter { Value = (short)7 });
            insert.Parameters.Add(new NpgsqlParameter { Value = 70000 });
            insert.Parameters.Add(new NpgsqlParameter { Value = 7_000_000_000L });
            insert.Parameters.Add(new NpgsqlParameter { Value = 0.25f });
            insert.Parameters.Add(new NpgsqlParameter { Value = Math.PI });
            insert.Parameters.Add(new NpgsqlParameter { Value = 3.14159m });
            insert.Parameters.Add(new NpgsqlParameter { Value = "text" });
            insert.Parameters.Add(new NpgsqlParameter { Value = ts, NpgsqlDbType = NpgsqlDbType.Timestamp });
            insert.Parameters.Add(new NpgsqlParameter { Value = tz, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new NpgsqlParameter { Value = new DateOnly(2020, 1, 2) });
            insert.Parameters.Add(new NpgsqlParameter { Value = guid });
            insert.Parameters.Add(new NpgsqlParameter { Value = "{\"x\":1}", NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter { Value = new byte[] { 1, 2, 3 } });
            insert.Parameters.Add(new NpgsqlParameter { Value = new[] { "a", "b" } });
            Assert.Equal(2, await insert.ExecuteNonQueryAsync());
        }
        await using (var select = new NpgsqlCommand("SELECT * FROM all_types ORDER BY b NULLS LAST", connection))
        {
            await using var reader = await select.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.True(reader.GetBoolean(0));
            Assert.Equal((short)7, reader.GetInt16(1));
            Assert.Equal(70000, reader.GetInt32(2));
            Assert.Equal(7_000_000_000L, reader.GetInt64(3));
            Assert.Equal(0.25f, reader.GetFloat(4));
            Assert.Equal(Math.PI, reader.GetDouble(5));
            Assert.Equal(3.14159m, reader.GetDecimal(6));
            Assert.Equal("text", reader.GetString(7));
            Assert.Equal(ts, reader.GetDateTime(8));
            Assert.Equal(tz, reader.GetFieldValue<DateTime>(9));
            Assert.Equal(DateTimeKind.Utc, reader.GetFieldValue<DateTime>(9).Kind);
            Assert.Equal(new DateOnly(2020, 1, 2), reader.GetFieldValue<DateOnly>(10));
            Assert.Equal(guid, reader.GetGuid(11));
            Assert.Equal("jsonb", reader.GetDataTypeName(12));
            Assert.Equal("{\"x\":1}", reader.GetString(12));
            Assert.Equal(new byte[] { 1, 2, 3 }, reader.GetFieldValue<byte[]>(13));
            Assert.Equal(new[] { "a", "b" }, reader.GetFieldValue<string[]>(14));
            Assert.True(await reader.ReadAsync());
            for (var i = 0; i < reader.FieldCount; i++)
            {
                Assert.True(reader.IsDBNull(i));
            }
            Assert.False(await reader.ReadAsync());
        }
    }

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    private static void AssertEquivalent(object expected, object actual)
    {
        switch (expected)
        {
            case DateTime dt:
                var a = Assert.IsType<DateTime>(actual);
                Assert.Equal(dt, a);
                Assert.Equal(dt.Kind == DateTimeKind.Utc ? DateTimeKind.Utc : DateTimeKind.Unspecified, a.Kind);
                break;
            default:
                Assert.Equal(expected, actual);
                break;
        }
    }
}
