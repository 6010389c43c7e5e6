using System.Threading.Channels;
using Apache.Arrow;
using TimeFusion.Silo.Protocol.Postgres.Copy;
using TimeFusion.Silo.Protocol.Postgres.Sql;
using TimeFusion.Silo.Protocol.Postgres.Types;
using TimeFusion.Silo.Protocol.Postgres.Wire;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Protocol.Postgres.Connection;

internal sealed partial class PostgresConnection
{
    // The last COPY's batch size per column, so that a client loading in many statements does not grow every column
    // from empty each time.
    private readonly CopySizeHint _copySizeHint = new();

    /// <summary>
    /// COPY … FROM STDIN: CopyInResponse, then CopyData parsed into Arrow batches handed to the backend
    /// through a small bounded channel (a slow backend slows the client down, memory stays bounded), then
    /// CopyDone → CommandComplete <c>COPY n</c>. A bad row, CopyFail, cancel or timeout fails the whole COPY.
    /// </summary>
    private async Task CopyInAsync(CopyStatement copy, StatementCancellation cancellation)
    {
        var session = _session!;
        var target = await RunAsync(cancellation, ct => session.DescribeCopyTargetAsync(copy.Table!, copy.Columns, ct)).ConfigureAwait(false);
        var parser = CreateParser(copy, target);
        parser.UseSizeHint(_copySizeHint);
        if (target.RouteColumn >= 0)
        {
            parser.RouteBy(target.RouteColumn);
        }
        var columns = target.Schema.FieldsList.Count;
        _out.WriteCopyResponse((byte)'G', copy.Format == CopyFormat.Binary, columns);
        await FlushAsync().ConfigureAwait(false);

        var channel = Channel.CreateBounded<RecordBatch>(new BoundedChannelOptions(2)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _active = cancellation;
        var backendTask = Task.Run(async () => await session.CopyInAsync(target, channel.Reader.ReadAllAsync(cancellation.Token), cancellation.Token).ConfigureAwait(false));
        // If the backend stops early (it failed), writes must not wait for a reader that is gone.
        _ = backendTask.ContinueWith(_ => channel.Writer.TryComplete(), TaskScheduler.Default);
        Exception? failure = null;
        try
        {
            while (true)
            {
                FrontendMessage? next;
                try
                {
                    // CopyData bodies go straight from the socket's buffers to the parser; anything else is read whole.
                    if (await _reader.FeedCopyDataAsync(parser, cancellation.Token).ConfigureAwait(false))
                    {
                        await PushBatchesAsync(parser, channel.Writer, backendTask, cancellation.Token).ConfigureAwait(false);
                        continue;
                    }
                    next = await _reader.ReadAsync(cancellation.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
                {
                    throw new ClientGoneException("read failed during COPY", e);
                }
                if (next is not { } message)
                {
                    throw new ClientGoneException("client closed the connection during COPY");
                }
                using (message)
                {
                    switch ((char)message.Type)
                    {
                        case 'd':
                            parser.Feed(message.Body);
                            await PushBatchesAsync(parser, channel.Writer, backendTask, cancellation.Token).ConfigureAwait(false);
                            continue;
                        case 'c':
                            parser.Finish();
                            await PushBatchesAsync(parser, channel.Writer, backendTask, cancellation.Token).ConfigureAwait(false);
                            channel.Writer.TryComplete();
                            var stored = await backendTask.ConfigureAwait(false);
                            _out.WriteCommandComplete($"COPY {stored}");
                            return;
                        case 'f':
                        {
                            var reader = new PgBodyReader(message.Body);
                            var reason = reader.Remaining > 0 ? reader.ReadCString() : "";
                            throw new PostgresErrorException(SqlState.QueryCanceled, $"COPY from stdin failed: {reason}");
                        }
                        case 'H':
                        case 'S':
                            continue; // ignored during COPY, as in PostgreSQL
                        case 'X':
                            throw new ClientGoneException("client terminated during COPY");
                        default:
                            throw new PostgresErrorException(SqlState.ProtocolViolation,
                                $"unexpected message type 0x{message.Type:X2} during COPY from stdin");
                    }
                }
            }
        }
        catch (Exception e)
        {
            failure = e;
            channel.Writer.TryComplete(e is PostgresErrorException or OperationCanceledException
                ? e
                : new PostgresErrorException(SqlState.QueryCanceled, "COPY aborted", e));
            // Wait for the backend to roll back; its own error is less useful than ours unless ours is a cancellation.
            try
            {
                await backendTask.ConfigureAwait(false);
            }
            catch (Exception backendError) when (e is ChannelClosedException)
            {
                failure = backendError;
            }
            catch (Exception)
            {
            }
            while (channel.Reader.TryRead(out var leftover))
            {
                leftover.Dispose();
            }
            while (parser.TryTake(out var pending))
            {
                pending.Dispose();
            }
            parser.Dispose();
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        finally
        {
            _active = null;
        }
    }

    private async Task PushBatchesAsync(CopyInParser parser, ChannelWriter<RecordBatch> writer, Task<long> backendTask, CancellationToken cancellationToken)
    {
        while (parser.TryTake(out var batch))
        {
            try
            {
                await writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                batch.Dispose();
                // The backend finished before reading everything: surface its error (or say it stopped early).
                await backendTask.ConfigureAwait(false);
                throw new PostgresErrorException(SqlState.InternalError, "the backend stopped reading COPY data early");
            }
            catch
            {
                batch.Dispose();
                throw;
            }
        }
    }

    private CopyInParser CreateParser(CopyStatement copy, CopyTarget target)
    {
        var table = copy.Table!;
        var rows = _options.CopyBatchRows;
        var bytes = _options.CopyBatchBytes;
        var maxRow = _options.MaxMessageBytes;
        return copy.Format switch
        {
            CopyFormat.Binary => new CopyBinaryParser(table, target.Schema, _settings.TimeZone, rows, bytes, maxRow),
            CopyFormat.Csv => new CopyCsvParser(table, target.Schema, _settings.TimeZone, copy.DelimiterChar, copy.QuoteChar, copy.EscapeChar,
                copy.NullString, copy.Header, copy.ForceNotNull, copy.ForceNull, rows, bytes, maxRow),
            _ => new CopyTextParser(table, target.Schema, _settings.TimeZone, copy.DelimiterChar, copy.NullString, copy.Header, rows, bytes, maxRow),
        };
    }

    /// <summary>COPY … TO STDOUT (a table, columns or a query) in text, CSV or binary format.</summary>
    private async Task CopyOutAsync(CopyStatement copy, StatementCancellation cancellation)
    {
        var query = copy.Query ?? $"SELECT {(copy.ColumnsText is { } cols ? cols[1..^1] : "*")} FROM {copy.Table}";
        var session = _session!;
        var result = await RunAsync(cancellation, ct => session.ExecuteAsync(new BackendStatement(query, StatementClassifier.FirstKeyword(query)), [], ct)).ConfigureAwait(false);
        if (!result.HasRows)
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw new PostgresErrorException(SqlState.FeatureNotSupported, "COPY query must have a result");
        }
        var binary = copy.Format == CopyFormat.Binary;
        RowStream rows;
        try
        {
            rows = new RowStream(result, CreateEncoders(result.Schema!, _ => binary), cancellation.Token);
        }
        catch
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        await using (rows.ConfigureAwait(false))
        {
            var encoders = rows.Encoders;
            _out.WriteCopyResponse((byte)'H', binary, encoders.Length);
            var writer = new CopyOutWriter(_out, copy, result.Schema!);
            writer.WriteHeader();
            long count = 0;
            _active = cancellation;
            try
            {
                while (await rows.MoveNextRowAsync().ConfigureAwait(false))
                {
                    cancellation.Token.ThrowIfCancellationRequested();
                    writer.WriteRow(encoders, rows.Row);
                    rows.Advance();
                    count++;
                    await FlushIfFullAsync().ConfigureAwait(false);
                }
            }
            catch
            {
                _out.AbandonMessage();
                throw;
            }
            finally
            {
                _active = null;
            }
            writer.WriteTrailer();
            _out.WriteEmptyMessage((byte)'c');
            _out.WriteCommandComplete($"COPY {count}");
        }
    }
}

/// <summary>Formats COPY TO STDOUT rows as CopyData messages.</summary>
internal sealed class CopyOutWriter(PgOutputBuffer output, CopyStatement copy, Schema schema)
{
    private readonly PgOutputBuffer _scratch = new();
    private readonly byte _delimiter = (byte)copy.DelimiterChar;
    private readonly byte[] _null = System.Text.Encoding.UTF8.GetBytes(copy.NullString);
    private readonly byte _quote = (byte)copy.QuoteChar;
    private readonly byte _escape = (byte)copy.EscapeChar;
    private readonly bool[] _forceQuote = schema.FieldsList.Select(f => copy.ForceQuoteAll || copy.ForceQuote.Contains(f.Name)).ToArray();

    // The binary header travels in the same CopyData as the first row (or the trailer), as PostgreSQL sends it;
    // Npgsql's binary exporter relies on that.
    private bool _binaryHeaderPending;

    public void WriteHeader()
    {
        if (copy.Format == CopyFormat.Binary)
        {
            _binaryHeaderPending = true;
            return;
        }
        if (copy.Header)
        {
            output.StartMessage((byte)'d');
            for (var i = 0; i < schema.FieldsList.Count; i++)
            {
                if (i > 0)
                {
                    output.WriteByte(_delimiter);
                }
                var name = System.Text.Encoding.UTF8.GetBytes(schema.FieldsList[i].Name);
                if (copy.Format == CopyFormat.Csv)
                {
                    WriteCsvField(name, quoteAlways: false);
                }
                else
                {
                    WriteTextField(name);
                }
            }
            output.WriteByte((byte)'\n');
            output.EndMessage();
        }
    }

    public void WriteRow(ColumnEncoder[] encoders, int row)
    {
        output.StartMessage((byte)'d');
        if (copy.Format == CopyFormat.Binary)
        {
            WritePendingBinaryHeader();
            output.WriteInt16((short)encoders.Length);
            foreach (var encoder in encoders)
            {
                encoder.Write(output, row);
            }
            output.EndMessage();
            return;
        }
        for (var i = 0; i < encoders.Length; i++)
        {
            if (i > 0)
            {
                output.WriteByte(_delimiter);
            }
            if (encoders[i].IsNull(row))
            {
                output.WriteBytes(_null);
                continue;
            }
            _scratch.Clear();
            encoders[i].WriteText(_scratch, row);
            if (copy.Format == CopyFormat.Csv)
            {
                WriteCsvField(_scratch.WrittenSpan, _forceQuote[i]);
            }
            else
            {
                WriteTextField(_scratch.WrittenSpan);
            }
        }
        output.WriteByte((byte)'\n');
        output.EndMessage();
    }

    public void WriteTrailer()
    {
        if (copy.Format == CopyFormat.Binary)
        {
            output.StartMessage((byte)'d');
            WritePendingBinaryHeader();
            output.WriteInt16(-1);
            output.EndMessage();
        }
    }

    private void WritePendingBinaryHeader()
    {
        if (!_binaryHeaderPending)
        {
            return;
        }
        _binaryHeaderPending = false;
        output.WriteBytes([(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0]);
        output.WriteInt32(0);
        output.WriteInt32(0);
    }

    private void WriteTextField(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            switch (b)
            {
                case (byte)'\\': output.WriteBytes("\\\\"u8); break;
                case (byte)'\n': output.WriteBytes("\\n"u8); break;
                case (byte)'\r': output.WriteBytes("\\r"u8); break;
                case (byte)'\t': output.WriteBytes("\\t"u8); break;
                case (byte)'\b': output.WriteBytes("\\b"u8); break;
                case (byte)'\f': output.WriteBytes("\\f"u8); break;
                case (byte)'\v': output.WriteBytes("\\v"u8); break;
                default:
                    if (b == _delimiter)
                    {
                        output.WriteByte((byte)'\\');
                    }
                    output.WriteByte(b);
                    break;
            }
        }
    }

    private void WriteCsvField(ReadOnlySpan<byte> value, bool quoteAlways)
    {
        var quote = quoteAlways || value.SequenceEqual(_null) || value.IndexOfAny([_delimiter, _quote, (byte)'\n', (byte)'\r']) >= 0
                    || (_escape != _quote && value.IndexOf(_escape) >= 0)
                    || (value.Length == 2 && value[0] == '\\' && value[1] == '.');
        if (!quote)
        {
            output.WriteBytes(value);
            return;
        }
        output.WriteByte(_quote);
        foreach (var b in value)
        {
            if (b == _quote || b == _escape)
            {
                output.WriteByte(_escape);
            }
            output.WriteByte(b);
        }
        output.WriteByte(_quote);
    }
}
