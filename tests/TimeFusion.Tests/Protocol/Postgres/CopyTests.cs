using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using TimeFusion.Silo.Protocol.Postgres;
using Xunit.Abstractions;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class CopyTests(PostgresServerFixture fixture, ITestOutputHelper output)
{
    private const string AllTypesTable =
        "(b BOOLEAN, i2 SMALLINT, i4 INTEGER, i8 BIGINT, f4 REAL, f8 DOUBLE, n DECIMAL(20,5), t VARCHAR, ts TIMESTAMP, tz TIMESTAMPTZ, d DATE, u UUID, j JSON, bin BLOB, arr VARCHAR[])";

    [Fact]
    public async Task Binary_import_of_every_type()
    {
        await using var connection = await fixture.OpenAsync();
        await Exec(connection, $"CREATE OR REPLACE TABLE copy_bin {AllTypesTable}");
        var guid = Guid.NewGuid();
        var ts = new DateTime(2023, 5, 6, 7, 8, 9).AddTicks(1230);
        var tz = new DateTime(2023, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        await using (var importer = await connection.BeginBinaryImportAsync("COPY copy_bin (b, i2, i4, i8, f4, f8, n, t, ts, tz, d, u, j, bin, arr) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < 1000; i++)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(i % 2 == 0, NpgsqlDbType.Boolean);
                await importer.WriteAsync((short)i, NpgsqlDbType.Smallint);
                await importer.WriteAsync(i * 1000, NpgsqlDbType.Integer);
                await importer.WriteAsync((long)i * 1_000_000_000, NpgsqlDbType.Bigint);
                await importer.WriteAsync(i / 4f, NpgsqlDbType.Real);
                await importer.WriteAsync(i / 3d, NpgsqlDbType.Double);
                await importer.WriteAsync(i + 0.12345m, NpgsqlDbType.Numeric);
                await importer.WriteAsync($"row {i}\t\"x\"", NpgsqlDbType.Text);
                await importer.WriteAsync(ts.AddSeconds(i), NpgsqlDbType.Timestamp);
                await importer.WriteAsync(tz.AddMinutes(i), NpgsqlDbType.TimestampTz);
                await importer.WriteAsync(new DateOnly(2023, 1, 1).AddDays(i), NpgsqlDbType.Date);
                await importer.WriteAsync(i == 0 ? guid : Guid.NewGuid(), NpgsqlDbType.Uuid);
                await importer.WriteAsync($"{{\"i\":{i}}}", NpgsqlDbType.Jsonb);
                await importer.WriteAsync(new byte[] { (byte)i, 0, 255 }, NpgsqlDbType.Bytea);
                if (i % 10 == 0)
                {
                    await importer.WriteNullAsync();
                }
                else
                {
                    await importer.WriteAsync(new[] { "a", i.ToString() }, NpgsqlDbType.Array | NpgsqlDbType.Text);
                }
            }
            Assert.Equal(1000UL, await importer.CompleteAsync());
        }
        await using var cmd = new NpgsqlCommand("SELECT * FROM copy_bin WHERE i2 = 0", connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.True(reader.GetBoolean(0));
        Assert.Equal(0.12345m, reader.GetDecimal(6));
        Assert.Equal("row 0\t\"x\"", reader.GetString(7));
        Assert.Equal(ts, reader.GetDateTime(8));
        Assert.Equal(tz, reader.GetFieldValue<DateTime>(9));
        Assert.Equal(new DateOnly(2023, 1, 1), reader.GetFieldValue<DateOnly>(10));
        Assert.Equal(guid, reader.GetGuid(11));
        Assert.Equal("{\"i\":0}", reader.GetString(12));
        Assert.Equal(new byte[] { 0, 0, 255 }, reader.GetFieldValue<byte[]>(13));
        Assert.True(reader.IsDBNull(14));
        await reader.DisposeAsync();
        Assert.Equal(1000L, fixture.Backend.Scalar("SELECT count(*) FROM copy_bin"));
        Assert.Equal(499500L, fixture.Backend.Scalar("SELECT sum(i2)::BIGINT FROM copy_bin"));
    }

    [Fact]
    public async Task Text_import_with_escapes_nulls_and_arrays()
    {
        await using var connection = await fixture.OpenAsync();
        await Exec(connection, "CREATE OR REPLACE TABLE copy_text (id INTEGER, s VARCHAR, ts TIMESTAMPTZ, tags VARCHAR[], ok BOOLEAN)");
        await using (var writer = await connection.BeginTextImportAsync("COPY copy_text FROM STDIN"))
        {
            await writer.WriteAsync("1\ttab\\there\\nnewline\t2024-01-02 03:04:05.5+02\t{a,\"b c\"}\tt\n");
            await writer.WriteAsync("2\t\\N\t2024-01-02T03:04:05Z\t\\N\tfalse\n");
            await writer.WriteAsync("3\tback\\\\slash\t2024-01-02 03:04:05\t{}\tyes\r\n");
            await writer.WriteAsync("\\.\n");
        }
        var rows = await Rows(connection, "SELECT id, s, ts::VARCHAR, tags::VARCHAR, ok FROM copy_text ORDER BY id");
        Assert.Equal(3, rows.Count);
        Assert.Equal("tab\there\nnewline", rows[0][1]);
        Assert.Equal("2024-01-02 01:04:05.5+00", rows[0][2]);
        Assert.Equal("[a, b c]", rows[0][3]);
        Assert.Equal(DBNull.Value, rows[1][1]);
        Assert.Equal("2024-01-02 03:04:05+00", rows[1][2]);
        Assert.Equal(false, rows[1][4]);
        Assert.Equal("back\\slash", rows[2][1]);
        Assert.Equal("[]", rows[2][3]);
    }

    [Fact]
    public async Task Csv_import_with_header_quotes_and_embedded_newlines()
    {
        await using var connection = await fixture.OpenAsync();
        await Exec(connection, "CREATE OR REPLACE TABLE copy_csv (id INTEGER, s VARCHAR, n DOUBLE)");
        await using (var writer = await connection.BeginTextImportAsync("COPY copy_csv (id, s, n) FROM STDIN WITH (FORMAT csv, HEADER true)"))
        {
            await writer.WriteAsync("id,s,n\n1,\"quoted, with comma\",1.5\n2,\"multi\nline \"\"quote\"\"\",\n3,,-2e3\n4,\"\",0\n");
        }
        var rows = await Rows(connection, "SELECT id, s, n FROM copy_csv ORDER BY id");
        Assert.Equal(4, rows.Count);
        Assert.Equal("quoted, with comma", rows[0][1]);
        Assert.Equal("multi\nline \"quote\"", rows[1][1]);
        Assert.Equal(DBNull.Value, rows[1][2]);
        Assert.Equal(DBNull.Value, rows[2][1]);
        Assert.Equal(-2000d, rows[2][2]);
        Assert.Equal("", rows[3][1]);
    }

    [Fact]
    public async Task A_bad_row_fails_the_whole_copy_with_its_line_and_the_connection_survives()
    {
        await using var connection = await fixture.OpenAsync();
        await Exec(connection, "CREATE OR REPLACE TABLE copy_bad (id INTEGER, s VARCHAR)");
        var e = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var writer = await connection.BeginTextImportAsync("COPY copy_bad FROM STDIN");
            await writer.WriteAsync("1\tone\n2\ttwo\nthree\t3\n4\tfour\n");
        });
        Assert.Equal(SqlState.InvalidTextRepresentation, e.SqlState);
        Assert.Contains("line 3", e.Where);
        Assert.Equal(0L, fixture.Backend.Scalar("SELECT count(*) FROM copy_bad"));

        var missing = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var writer = await connection.BeginTextImportAsync("COPY copy_bad FROM STDIN");
            await writer.WriteAsync("1\n");
        });
        Assert.Equal(SqlState.BadCopyFileFormat, missing.SqlState);

        var table = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var writer = await connection.BeginTextImportAsync("COPY no_such_table FROM STDIN");
        });
        Assert.Equal(SqlState.UndefinedTable, table.SqlState);

        await using var cmd = new NpgsqlCommand("SELECT 42", connection);
        Assert.Equal(42, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Cancelled_import_stores_nothing()
    {
        await using var connection = await fixture.OpenAsync();
        await Exec(connection, "CREATE OR REPLACE TABLE copy_cancel (id INTEGER)");
        await using (var importer = await connection.BeginBinaryImportAsync("COPY copy_cancel FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < 50_000; i++)
            {
                await importer.WriteRowAsync(default, i);
            }
            // Disposing without Complete sends CopyFail.
        }
        Assert.Equal(0L, fixture.Backend.Scalar("SELECT count(*) FROM copy_cancel"));
        await using var cmd = new NpgsqlCommand("SELECT 7", connection);
        Assert.Equal(7, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Copy_to_stdout_in_text_csv_and_binary()
    {
        await using var connection = await fixture.OpenAsync();
        await Exec(connection, "CREATE OR REPLACE TABLE copy_out (id INTEGER, s VARCHAR)");
        await Exec(connection, "INSERT INTO copy_out VALUES (1, 'a\tb'), (2, NULL), (3, 'x,\"y\"')");
        using (var reader = await connection.BeginTextExportAsync("COPY (SELECT * FROM copy_out ORDER BY id) TO STDOUT"))
        {
            Assert.Equal("1\ta\\tb\n2\t\\N\n3\tx,\"y\"\n", await reader.ReadToEndAsync());
        }
        using (var reader = await connection.BeginTextExportAsync("COPY copy_out (id, s) TO STDOUT WITH (FORMAT csv, HEADER)"))
        {
            var text = await reader.ReadToEndAsync();
            Assert.StartsWith("id,s\n", text);
            Assert.Contains("3,\"x,\"\"y\"\"\"\n", text);
        }
        await using (var exporter = await connection.BeginBinaryExportAsync("COPY (SELECT id, s FROM copy_out ORDER BY id) TO STDOUT (FORMAT BINARY)"))
        {
            var ids = new List<int>();
            var strings = new List<string?>();
            while (await exporter.StartRowAsync() != -1)
            {
                ids.Add(await exporter.ReadAsync<int>(NpgsqlDbType.Integer));
                // A NULL is left unread: the next StartRow skips it.
                strings.Add(exporter.IsNull ? null : await exporter.ReadAsync<string>(NpgsqlDbType.Text));
            }
            Assert.Equal([1, 2, 3], ids);
            Assert.Equal(["a\tb", null, "x,\"y\""], strings);
        }
    }

    [Fact]
    public async Task Import_throughput_is_measured()
    {
        const int rows = 200_000;
        await using var connection = await fixture.OpenAsync();
        await Exec(connection, "CREATE OR REPLACE TABLE copy_speed (ts TIMESTAMPTZ, service VARCHAR, duration BIGINT, ok BOOLEAN)");
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var binary = Stopwatch.StartNew();
        await using (var importer = await connection.BeginBinaryImportAsync("COPY copy_speed FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < rows; i++)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(start.AddTicks(i * 10), NpgsqlDbType.TimestampTz);
                await importer.WriteAsync(i % 3 == 0 ? "checkout" : "cart", NpgsqlDbType.Text);
                await importer.WriteAsync((long)i, NpgsqlDbType.Bigint);
                await importer.WriteAsync(i % 5 != 0, NpgsqlDbType.Boolean);
            }
            await importer.CompleteAsync();
        }
        binary.Stop();
        var text = Stopwatch.StartNew();
        await using (var writer = await connection.BeginTextImportAsync("COPY copy_speed FROM STDIN"))
        {
            for (var i = 0; i < rows; i++)
            {
                await writer.WriteAsync($"2024-01-01 00:00:00.{i % 1000000:D6}+00\tcart\t{i}\tt\n");
            }
        }
        text.Stop();
        Assert.Equal(2L * rows, fixture.Backend.Scalar("SELECT count(*) FROM copy_speed"));
        output.WriteLine($"COPY binary: {rows / binary.Elapsed.TotalSeconds:N0} rows/s; COPY text: {rows / text.Elapsed.TotalSeconds:N0} rows/s (DuckDB test backend, row-by-row appender)");
    }

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<List<object[]>> Rows(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(values);
        }
        return rows;
    }
}
