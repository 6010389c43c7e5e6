using TimeFusion.Bench.Wal;

// Subcommands, one per engine area. Each prints its figures as a Markdown table.
var commands = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.Ordinal)
{
    ["wal"] = WalBenchmark.RunAsync,
};
if (args.Length == 0 || !commands.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: TimeFusion.Bench <{string.Join("|", commands.Keys)}> [options]");
    return 64;
}
return await run(args[1..]);
