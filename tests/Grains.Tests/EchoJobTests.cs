using System.Text.Json;
using ManagedServers.Grains.Servers;
using ManagedServers.Grains.Servers.Jobs;
using ManagedServers.Grains.Servers.Parts.Versions;
using Orleans.Runtime;
using Orleans.Streams;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests;

/// <summary>
/// A job kind the product does not have, registered from this test project only (<see cref="ClusterFixture"/>:
/// <c>AddJobHandler&lt;EchoJobHandler&gt;</c>): it runs through the server's workflow — its own spec type, planning, the
/// agent command, the result, a failure — with requested_by and the job event stream, and no edit to the server grain.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class EchoJobTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private TestCluster Cluster => fixture.Cluster;

    private IServerJobsGrain Jobs(string id) => Cluster.Client.GetGrain<IServerJobsGrain>(id);

    private IManagedServerGrain Server(string id) => Cluster.Client.GetGrain<IManagedServerGrain>(id);

    private IServerConfigVersionsGrain Versions(string id) => Cluster.Client.GetGrain<IServerConfigVersionsGrain>(id);

    private async Task<string> CreateAsync(ServerKind kind)
    {
        var id = "srv-" + Guid.NewGuid().ToString("N")[..16];
        await Server(id).CreateAsync(new ServerDefinition("echo-" + id[4..10], kind, "127.0.0.1", "Debian 12", AgentRuntime.Exec, CommunicationMode.Push, string.Empty, "u-echo-" + id[4..10]));
        await Server(id).RecordCertificateAsync(new AgentCertificate("serial-" + id, DateTimeOffset.UtcNow.AddHours(1), "CN=test CA"));
        return id;
    }

    private Task<JobSnapshot> FinishedAsync(string id, string jobId) => Jobs(id).WaitForJobAsync(jobId, j => j.Finished, Patience);

    [Fact]
    public async Task A_job_kind_registered_from_outside_runs_through_the_workflow_and_its_event_stream()
    {
        var id = await CreateAsync(ServerKind.Backup);
        var received = new System.Collections.Concurrent.ConcurrentQueue<JobEvent>();
        var stream = Cluster.Client.GetStreamProvider(StreamNames.EventsProvider).GetStream<JobEvent>(StreamId.Create(StreamNames.JobEventsNamespace, id));
        var subscription = await stream.SubscribeAsync((e, _) =>
        {
            received.Enqueue(e);
            return Task.CompletedTask;
        });
        try
        {
            RequestContext.Set(Caller.Key, "bob");
            var job = await Jobs(id).StartJobAsync(new JobRequest(EchoJobHandler.Kind, Spec: new EchoSpec("hello", 2)));
            RequestContext.Clear();
            Assert.Equal((EchoJobHandler.Kind, "bob"), (job.Kind, job.RequestedBy));
            Assert.Contains(job.Steps, s => s.Message == "queued: echo");
            Assert.Contains(job.Steps, s => s.Message == "plan: the agent says 'hello' 2 times");

            var command = await Server(id).TakeOneAsync(Patience);
            Assert.Equal(EchoJobHandler.Command, command.Kind);
            Assert.Equal("hello", command.Args!.Value.GetProperty("text").GetString());
            await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: JsonSerializer.SerializeToElement(new { said = "hello hello" })));

            var done = await FinishedAsync(id, job.Id);
            Assert.True(done.State == JobState.Succeeded, done.Error);
            Assert.Equal("{\"said\":\"hello hello\"}", done.ResultJson);
            Assert.Contains(done.Steps, s => s.Message == "agent said: hello hello");
            var versions = await Versions(id).ListServiceConfigVersionsAsync(EchoJobHandler.Kind);
            Assert.Equal((1, true, job.Id, 2), (versions.Single().Number, versions[0].Live, versions[0].JobId, versions[0].Items));
            Assert.Equal("hello hello", (await Versions(id).GetServiceConfigVersionAsync(EchoJobHandler.Kind, 1))!.Content);

            // The agent fails it: the handler records what the answer tells, the job fails with the agent's error.
            var failing = await Jobs(id).StartJobAsync(new JobRequest(EchoJobHandler.Kind, Spec: new EchoSpec("boom", 1)));
            var second = await Server(id).TakeOneAsync(Patience);
            await Server(id).CompleteCommandAsync(new CommandResult(second.CommandId, false, DateTimeOffset.UtcNow, "echo refused", JsonSerializer.SerializeToElement(new { rolled_back = true })));
            var failed = await FinishedAsync(id, failing.Id);
            Assert.Equal((JobState.Failed, "the agent failed: echo refused"), (failed.State, failed.Error));
            Assert.Contains(failed.Steps, s => s.Message == "echo rolled back");
            Assert.Single(await Versions(id).ListServiceConfigVersionsAsync(EchoJobHandler.Kind)); // a rolled-back change is no version

            // Another change is version 2, live; the same again keeps it (its command announced 3, the next free number).
            foreach (var (text, announced) in new[] { ("bye", 2), ("bye", 3) })
            {
                var next = await Jobs(id).StartJobAsync(new JobRequest(EchoJobHandler.Kind, Spec: new EchoSpec(text, 1)));
                var nextCommand = await Server(id).TakeOneAsync(Patience);
                Assert.Equal(announced, nextCommand.Args!.Value.GetProperty("version").GetInt32());
                await Server(id).CompleteCommandAsync(new CommandResult(nextCommand.CommandId, true, DateTimeOffset.UtcNow, Output: JsonSerializer.SerializeToElement(new { said = text })));
                Assert.Equal(JobState.Succeeded, (await FinishedAsync(id, next.Id)).State);
            }

            versions = await Versions(id).ListServiceConfigVersionsAsync(EchoJobHandler.Kind);
            Assert.Equal([(2, true), (1, false)], versions.Select(v => (v.Number, v.Live)));
            Assert.Empty(await Versions(id).ListServiceConfigVersionsAsync("dns"));

            // The handler's own checks refuse before anything is stored.
            var refused = await Assert.ThrowsAsync<ConflictException>(() => Jobs(id).StartJobAsync(new JobRequest(EchoJobHandler.Kind, Spec: new EchoSpec(string.Empty, 1))));
            Assert.Contains("nothing to echo", refused.Message, StringComparison.Ordinal);
            var unknown = await Assert.ThrowsAsync<ConflictException>(() => Jobs(id).StartJobAsync(new JobRequest("no_such_kind")));
            Assert.Contains("echo", unknown.Message, StringComparison.Ordinal);
            Assert.Equal(4, (await Jobs(id).ListJobsAsync()).Length);

            var deadline = DateTime.UtcNow + Patience;
            while (!received.Any(e => e.JobId == failing.Id && e.Type == JobEventType.Failed) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            var events = received.Where(e => e.JobId == job.Id).ToList();
            Assert.Equal(JobEventType.Queued, events[0].Type);
            Assert.Equal(JobEventType.Succeeded, events[^1].Type);
            Assert.All(events, e => Assert.Equal((EchoJobHandler.Kind, "bob"), (e.Kind, e.RequestedBy)));
            Assert.Contains(received, e => e.JobId == failing.Id && e.Type == JobEventType.Failed && e.RequestedBy == Caller.System);
        }
        finally
        {
            await subscription.UnsubscribeAsync();
        }
    }
}
