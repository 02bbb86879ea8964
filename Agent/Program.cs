using ManagedServers.Agent.Startup;

return await AgentProgram.MainAsync(args, Console.Out, Console.Error);
