namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// A server added without a runtime runs its services with what its agent can run: a real agent whose Docker engine
/// does not answer installs the host's knotd (exec), says why in the job, and the server keeps that runtime.
/// </summary>
public sealed class RuntimeChoiceTests() : SiloTestBase("rt")
{
    [Fact]
    public async Task Without_docker_the_agent_runs_the_service_with_exec_and_says_so()
    {
        var server = await Silo.CreateServerAsync("rt-auto");
        Assert.Equal("auto", server.Runtime);

        var stateDir = await EnrolAsync(server.Id, "agent");
        using var agent = AgentProcess.RunVerbose(stateDir, new Dictionary<string, string> { ["DOCKER_HOST"] = "unix://" + Path.Combine(Dir, "no-docker.sock") });
        try
        {
            await WaitRunningAsync(server.Id, agent);
            var port = Build.FreePort();
            var install = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", new AddServiceRequest("dns", Listen: [$"127.0.0.1@{port}"])), agent);
            var steps = string.Join('\n', install.Steps.Select(s => s.Message));
            Assert.True(install.State == "succeeded", $"{install.Error}\n{steps}\n{agent.Output}");
            Assert.Contains("runtime: the agent chooses", steps, StringComparison.Ordinal);
            Assert.Contains("runtime: exec (docker is not available on this server:", steps, StringComparison.Ordinal);
            Assert.True(await ServicesTests.AnswersAsync(port), "the DNS service does not answer");

            var after = (await Silo.GetServerAsync(server.Id))!;
            Assert.Equal("exec", after.Runtime);
            Assert.Equal("exec", Assert.Single(after.Services!).Runtime);
        }
        finally
        {
            agent.Dispose();
            ServicesTests.KillDaemons("knotd", stateDir);
        }
    }
}
