using TimeFusion.CrashChild;

// Usage: TimeFusion.CrashChild <mode> [--name value]...
// Protocol on stdout (one line each, flushed): "READY ..." once set up, then mode-specific progress lines that
// end with " END" (a line cut short by the kill lacks it and is ignored by the parent). Errors go to stderr, exit 2.
if (args.Length == 0 || !CrashModes.All.TryGetValue(args[0], out var mode))
{
    await Console.Error.WriteLineAsync($"usage: TimeFusion.CrashChild <{string.Join("|", CrashModes.All.Keys)}> [--name value]...");
    return 64;
}
try
{
    return await mode.RunAsync(CrashArgs.Parse(args.AsSpan(1)), new CrashOutput());
}
catch (Exception e)
{
    await Console.Error.WriteLineAsync(e.ToString());
    return 2;
}
