using Apache.Arrow;
using Apache.Arrow.Types;
using DuckDB.NET.Data;
using TimeFusion.DuckDb;
using TimeFusion.Ingest;
using Xunit;

namespace TimeFusion.Tests.DuckDb;

/// <summary>The DuckDB layer refuses bad input with a clear exception before anything crosses into native code.</summary>
public sealed class DuckDbBoundaryTests : IDisposable
{
    private readonly DuckDBConnection _connection = new("DataSource=:memory:");

    public DuckDbBoundaryTests()
    {
        _connection.Open();
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "CREATE TABLE t (a BIGINT, b VARCHAR)";
        cmd.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();

    private static RecordBatch Batch(int columns)
    {
        var fields = new List<Field>();
        var arrays = new List<IArrowArray>();
        for (var i = 0; i < columns; i++)
        {
            fields.Add(new Field("c" + i, Int64Type.Default, nullable: true));
            arrays.Add(new Int64Array.Builder().Append(1).Append(2).Build());
        }
        return new RecordBatch(new Schema(fields, null), arrays, 2);
    }

    private static DuckDBConnection Closed()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        connection.Dispose();
        return connection;
    }

    [Fact]
    public void A_disposed_connection_is_refused_everywhere()
    {
        var closed = Closed();
        Assert.Throws<ObjectDisposedException>(() => new ArrowChunkAppender(closed, "t", null, 1024));
        Assert.Throws<ObjectDisposedException>(() => DuckDbStatementRunner.Run(closed, "SELECT 1", 1024, CancellationToken.None));
        Assert.Throws<ObjectDisposedException>(() => ArrowQueryReader.Execute(closed, "SELECT 1"));
        Assert.Throws<ObjectDisposedException>(() => DuckDbStatements.SyntaxError(closed, "SELECT 1"));
        Assert.Throws<ObjectDisposedException>(() => DuckDbStatements.ColumnNames(closed, "SELECT 1"));
        Assert.Throws<ObjectDisposedException>(() => new DuckDbScalarStatement(closed, "SELECT ?::VARCHAR"));
        Assert.Throws<ObjectDisposedException>(() => DuckDbMacros.Install(closed, "CREATE MACRO m(x) AS x"));
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => new ArrowChunkAppender(null!, "t", null, 1024));
        Assert.Throws<ArgumentNullException>(() => DuckDbStatementRunner.Run(null!, "SELECT 1", 1024, CancellationToken.None));
        Assert.ThrowsAny<ArgumentException>(() => DuckDbStatementRunner.Run(_connection, "", 1024, CancellationToken.None));
        Assert.ThrowsAny<ArgumentException>(() => new ArrowChunkAppender(_connection, "", null, 1024));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArrowChunkAppender(_connection, "t", null, 0));
        using var appender = new ArrowChunkAppender(_connection, "t", null, 1024);
        Assert.Throws<ArgumentNullException>(() => appender.Append(null!, 0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void A_wrong_column_count_is_refused_before_the_conversion(int columns)
    {
        using var appender = new ArrowChunkAppender(_connection, "t", null, 1024);
        var e = Assert.Throws<ArgumentException>(() => appender.Append(BatchValidator.ValidateRelation(Batch(columns)), 0));
        Assert.Contains($"has {columns} columns but table 't' takes 2", e.Message);
        // The appender stays usable for a batch that fits.
        using var ok = new RecordBatch(new Schema([new Field("a", Int64Type.Default, true), new Field("b", StringType.Default, true)], null),
            [new Int64Array.Builder().Append(7).Build(), new StringArray.Builder().Append("x").Build()], 1);
        appender.Append(BatchValidator.ValidateRelation(ok), 0);
        var result = DuckDbStatementRunner.Run(_connection, "SELECT count(*) FROM t", 1024, CancellationToken.None);
        Assert.Equal(1L, ((Int64Array)result.Batches[0].Column(0)).GetValue(0));
        foreach (var b in result.Batches) b.Dispose();
    }

    [Fact]
    public void A_disposed_appender_is_refused()
    {
        var appender = new ArrowChunkAppender(_connection, "t", null, 1024);
        appender.Dispose();
        Assert.Throws<ObjectDisposedException>(() => appender.Append(BatchValidator.ValidateRelation(Batch(2)), 0));
    }

    [Fact]
    public void The_appender_keeps_the_native_connection_alive_until_disposed()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        var appender = new ArrowChunkAppender(connection, "t", null, 1024);
        connection.Dispose();
        // The lease holds a reference: disposing the appender releases it without touching freed memory.
        appender.Dispose();
    }

    [Fact]
    public void DuckDB_errors_carry_a_SQLSTATE()
    {
        var e = Assert.Throws<DuckDbSqlException>(() => DuckDbStatementRunner.Run(_connection, "SELECT * FROM missing_table", 1024, CancellationToken.None));
        Assert.Equal("42P01", e.SqlState);
        Assert.DoesNotContain("LINE 1", e.Message);
        Assert.Equal("42703", Assert.Throws<DuckDbSqlException>(() => DuckDbStatements.ColumnNames(_connection, "SELECT nope FROM t")).SqlState);
        Assert.Equal("42601", DuckDbErrorTranslation.SqlStateOf("Parser Error: syntax error at or near \"FROM\""));
        Assert.Equal("XX000", DuckDbErrorTranslation.SqlStateOf("something odd"));
    }

    [Fact]
    public void Syntax_checks_and_scalar_statements_work_through_the_layer()
    {
        Assert.Null(DuckDbStatements.SyntaxError(_connection, "SELECT 1"));
        Assert.NotNull(DuckDbStatements.SyntaxError(_connection, "SELEC 1"));
        Assert.Equal(["a", "b"], DuckDbStatements.ColumnNames(_connection, "SELECT * FROM t"));
        using var upper = new DuckDbScalarStatement(_connection, "SELECT upper(?::VARCHAR)");
        Assert.Equal("ABC", upper.Execute("abc"));
        upper.Dispose();
        Assert.Throws<ObjectDisposedException>(() => upper.Execute("x"));
    }
}
