using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// The job event stream through a real silo and a real agent: a client following GET /api/v1/jobs/events sees a service
/// job queued, its steps and its success as they happen, each naming who asked for it.
/// </summary>
public sealed class JobEventsTests() : SiloTestBase("job-events")
{
    [Fact]
    public async Task A_service_job_streams_queued_steps_and_succeeded_naming_its_requester()
    {
        var server = await Silo.CreateServerAsync("events", runtime: "exec");
        var stateDir = await EnrolAsync(server.Id, "events-state");
        using var agent = AgentProcess.RunVerbose(stateDir);
        await WaitRunningAsync(server.Id, agent);

        // Bad requests first: the server is required and must exist.
        using (var missing = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/jobs/events"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
            Assert.Contains("server", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var unknown = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/jobs/events?server=srv-0000000000000000"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        using var follower = await JobEventFollower.OpenAsync(Silo.BaseUrl, new AuthenticationHeaderValue("Bearer", Silo.Token), server.Id);
        Assert.Equal("text/event-stream", follower.MediaType);

        var job = await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", new AddServiceRequest("dns", Listen: [$"127.0.0.1@{Build.FreePort()}"]));
        Assert.Equal("admin", job.RequestedBy);

        var seen = await follower.UntilFinishedAsync(job.JobId, Patience);
        var summary = string.Join("\n", seen.Select(e => $"{e.Version} {e.Type} {e.State} {e.Progress}% {e.Message}"));
        Assert.True(seen[^1].Type == "succeeded", summary + "\nagent:\n" + agent.Output);
        Assert.Equal("queued", seen[0].Type);
        Assert.Contains(seen, e => e.Type == "step" && e.State == "running");
        Assert.All(seen, e => Assert.Equal("admin", e.RequestedBy));
        Assert.Equal(seen.Select(e => e.Version).Order(), seen.Select(e => e.Version)); // in order
        Assert.Equal(100, seen[^1].Progress);

        // The job as read agrees with the last event, and names its requester; so does the list's filter.
        var read = (await Silo.Http.GetFromJsonAsync<JobView>($"{Silo.BaseUrl}/api/v1/jobs/{job.JobId}", ContractsJson.WireOptions))!;
        Assert.Equal(seen[^1].Version, read.Version);
        Assert.Equal("admin", read.RequestedBy);
        var mine = (await Silo.Http.GetFromJsonAsync<PageOf<JobView>>($"{Silo.BaseUrl}/api/v1/jobs?server={server.Id}&requested_by=admin", ContractsJson.WireOptions))!;
        Assert.Contains(mine.Items, j => j.JobId == job.JobId);
        var others = (await Silo.Http.GetFromJsonAsync<PageOf<JobView>>($"{Silo.BaseUrl}/api/v1/jobs?server={server.Id}&requested_by=someone-else", ContractsJson.WireOptions))!;
        Assert.Empty(others.Items);
    }
}
