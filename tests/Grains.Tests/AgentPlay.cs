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

    /// <summary>Follows a job's changes until <paramref name="condition"/> holds (bounded by <paramref name="patience"/>).</summary>
    public static async Task<JobSnapshot> WaitForJobAsync(this IServerJobsGrain jobs, string jobId, Func<JobSnapshot, bool> condition, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        JobSnapshot? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await jobs.WaitForJobChangeAsync(jobId, last?.Version ?? -1, TimeSpan.FromSeconds(5));
            if (last is not null && condition(last))
            {
                return last;
            }
        }

        throw new TimeoutException($"job {jobId} did not reach the expected state; last: {last?.State} {last?.Error}");
    }
}
