using System.Text.Json;
using ManagedServers.Contracts;

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

    /// <summary>A DHCP server whose agent enrolled (a certificate on record), not yet running anything.</summary>
    public static async Task<string> CreateDhcpServerAsync(this IGrainFactory grains)
    {
        var id = "srv-" + Guid.NewGuid().ToString("N")[..16];
        var name = "dhcp-" + id[4..10];
        var server = grains.GetGrain<IManagedServerGrain>(id);
        await server.CreateAsync(new ServerDefinition(name, ServerKind.Dhcp, "127.0.0.1", "Debian 12", AgentRuntime.Exec, CommunicationMode.Push, string.Empty, "u-" + name));
        await server.RecordCertificateAsync(new AgentCertificate("serial-" + id, DateTimeOffset.UtcNow.AddHours(1), "CN=test CA"));
        return id;
    }

    /// <summary>The agent (played) installs dhcp4: the server then runs it.</summary>
    public static async Task InstallDhcp4Async(this IGrainFactory grains, string id, TimeSpan patience)
    {
        var (server, jobs) = (grains.GetGrain<IManagedServerGrain>(id), grains.GetGrain<IServerJobsGrain>(id));
        var job = await jobs.StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dhcp4));
        var command = await server.TakeOneAsync(patience);
        var running = new ServiceStatus(ServiceKinds.Dhcp4, ServiceStates.Running, DateTimeOffset.UtcNow, 0, "2.2.0", RuntimeNames.Exec, null, null);
        await server.CompleteCommandAsync(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: JsonSerializer.SerializeToElement(new ServiceCommandOutput(running, ["installed"]), ContractsJson.Default.ServiceCommandOutput)));
        Assert.Equal(JobState.Succeeded, (await jobs.WaitForJobAsync(job.Id, j => j.Finished, patience)).State);
    }
}
