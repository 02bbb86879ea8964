namespace ManagedServers.Grains.Tests;

/// <summary>The test playing the agent through the grain's own agent-facing calls.</summary>
internal static class AgentPlay
{
    /// <summary>Long-polls until the server has exactly one command for its agent (bounded by <paramref name="patience"/>).</summary>
    public static async Task<AgentCommand> TakeOneAsync(this IManagedServerGrain server, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline)
        {
            var commands = await server.WaitForCommandsAsync(TimeSpan.FromSeconds(5));
            if (!commands.IsEmpty)
            {
                return Assert.Single(commands);
            }
        }

        throw new TimeoutException($"no command for {server.GetPrimaryKeyString()}");
    }
}
