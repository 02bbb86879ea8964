using ManagedServers.Agent.Cli;

return await AgentProgram.MainAsync(args, Console.Out, Console.Error);
