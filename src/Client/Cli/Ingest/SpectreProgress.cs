using Spectre.Console;
using Spectre.Console.Rendering;

namespace TimeFusion.Client.Cli.Ingest;

/// <summary>A live progress bar per file on a terminal (Spectre.Console): bytes done, rows/s, MB/s and ETA.</summary>
public sealed class SpectreProgress(ProgressContext context) : IIngestProgress
{
    /// <summary>The state key of the rows landed.</summary>
    public const string RowsKey = "rows";

    private ProgressTask? _task;

    /// <summary>Runs <paramref name="work"/> with a progress display on stderr.</summary>
    public static Task<T> RunAsync<T>(Func<IIngestProgress, Task<T>> work)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RowsPerSecondColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(context => work(new SpectreProgress(context)));
    }

    /// <inheritdoc />
    public void Start(string file, long totalBytes)
    {
        _task = context.AddTask(Markup.Escape(Path.GetFileName(file)), maxValue: Math.Max(1, totalBytes));
        _task.State.Update<long>(RowsKey, _ => 0);
    }

    /// <inheritdoc />
    public void Report(long rows, long bytes)
    {
        if (_task is null) return;
        _task.State.Update<long>(RowsKey, _ => rows);
        _task.Value = bytes;
    }

    /// <inheritdoc />
    public void Finish(long rows, long bytes)
    {
        if (_task is null) return;
        _task.State.Update<long>(RowsKey, _ => rows);
        _task.Value = _task.MaxValue;
        _task.StopTask();
    }

    /// <summary>Rows landed per second of the task.</summary>
    private sealed class RowsPerSecondColumn : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            var seconds = task.ElapsedTime?.TotalSeconds ?? 0;
            var rows = task.State.Get<long>(RowsKey);
            return new Text(seconds > 0 ? $"{rows / seconds:N0} rows/s" : "", new Style(Color.Grey));
        }
    }
}
