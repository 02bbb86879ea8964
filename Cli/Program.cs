using ManagedServers.Cli;

return await CliApp.RunAsync(args, CliHost.CreateDefault());
