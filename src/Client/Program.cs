using TimeFusion.Client.Cli;

// The `timefusion` command line; the commands are in Cli/ (CliApp builds them).
return await CliApp.RunAsync(args);
