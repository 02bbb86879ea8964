using System.Text.Json;
using ManagedServers.Contracts;
using Orleans;
using Orleans.Runtime;
using Orleans.Streams;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests;

/// <summary>
/// The server workflow on a three-silo cluster, with the agent played by the test through the grain's own agent-facing
/// calls (long poll, result): queued → running → done, waiting for an offline agent, idempotency keys, fitting checks,
/// services learnt from results and heartbeats, debug bundles held in memory, and a job surviving the loss of its silo.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ServerJobsTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private TestCluster Cluster => fixture.Cluster;

    private async Task<string> CreateAsync(ServerKind kind = ServerKind.Dns, bool enrolled = true)
    {
        var id = "srv-" + Guid.NewGuid().ToString("N")[..16];
        var name = "jobs-" + id[4..10];
        var grain = Cluster.Client.GetGrain<IManagedServerGrain>(id);
        await grain.CreateAsync(new ServerDefinition(name, kind, "127.0.0.1", "Debian 12", AgentRuntime.Exec, CommunicationMode.Push, string.Empty, "u-" + name));
        if (enrolled)
        {
            await grain.RecordCertificateAsync(new AgentCertificate("serial-" + id, DateTimeOffset.UtcNow.AddHours(1), "CN=test CA"));
        }

        return id;
    }

    private IServerJobsGrain Jobs(string id) => Cluster.Client.GetGrain<IServerJobsGrain>(id);

    private IManagedServerGrain Server(string id) => Cluster.Client.GetGrain<IManagedServerGrain>(id);

    private static JsonElement Output(ServiceStatus status, params string[] steps) =>
        JsonSerializer.SerializeToElement(new ServiceCommandOutput(status, steps), ContractsJson.Default.ServiceCommandOutput);

    private static ServiceStatus Running(string kind, string version) =>
        new(kind, ServiceStates.Running, DateTimeOffset.UtcNow, 0, version, RuntimeNames.Exec, null, "127.0.0.1:5353");

    private Task<AgentCommand> TakeOneAsync(string id) => Server(id).TakeOneAsync(Patience);

    private Task<JobSnapshot> WaitForJobAsync(string id, string jobId, Func<JobSnapshot, bool> condition) => Jobs(id).WaitForJobAsync(jobId, condition, Patience);

    [Fact]
    public async Task An_action_for_a_server_whose_agent_never_enrolled_fails_at_once_saying_so()
    {
        var id = await CreateAsync(enrolled: false);
        var job = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dns));
        Assert.Equal(JobState.Failed, job.State);
        Assert.Contains("never enrolled", job.Error, StringComparison.Ordinal);
        Assert.Contains("setup-bundle", job.Error, StringComparison.Ordinal);
        Assert.Empty(await Server(id).WaitForCommandsAsync(TimeSpan.Zero)); // nothing was queued for an agent
        Assert.Equal(id, JobIds.ServerOf(job.Id));
    }

    [Fact]
    public async Task Actions_that_do_not_fit_the_server_are_refused_and_change_nothing()
    {
        var id = await CreateAsync();
        var wrongKind = await Assert.ThrowsAsync<ConflictException>(() => Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dhcp4)));
        Assert.Equal("kind", wrongKind.Field);
        Assert.Contains("DNS server runs the dns service", wrongKind.Message, StringComparison.Ordinal);
        var notInstalled = await Assert.ThrowsAsync<NotFoundException>(() => Jobs(id).StartJobAsync(new JobRequest(JobKinds.RestartService, ServiceKinds.Dns)));
        Assert.Contains("not installed", notInstalled.Message, StringComparison.Ordinal);
        Assert.Empty(await Jobs(id).ListJobsAsync());
        await Assert.ThrowsAsync<NotFoundException>(() => Jobs("srv-missing-" + Guid.NewGuid().ToString("N")[..8]).StartJobAsync(new JobRequest(JobKinds.Diagnostics)));
    }

    [Fact]
    public async Task A_job_announces_its_changes_in_order_on_the_server_event_stream_with_its_requester()
    {
        var id = await CreateAsync(ServerKind.Dhcp);
        var received = new System.Collections.Concurrent.ConcurrentQueue<JobEvent>();
        var stream = Cluster.Client.GetStreamProvider(StreamNames.EventsProvider).GetStream<JobEvent>(StreamId.Create(StreamNames.JobEventsNamespace, id));
        var subscription = await stream.SubscribeAsync((e, _) =>
        {
            received.Enqueue(e);
            return Task.CompletedTask;
        });
        try
        {
            RequestContext.Set(Caller.Key, "alice");
            var job = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dhcp4, Spec: new ServiceJobSpec(Version: "2.2.0")));
            RequestContext.Clear();
            Assert.Equal("alice", job.RequestedBy);

            var command = await TakeOneAsync(id);
            await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: Output(Running(ServiceKinds.Dhcp4, "2.2.0"), "config written")));
            var deadline = DateTime.UtcNow + Patience;
            while (!received.Any(e => e.Type == JobEventType.Succeeded) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            var events = received.Where(e => e.JobId == job.Id).ToList();
            Assert.True(events.Count >= 3, string.Join(", ", events.Select(e => e.Type)));
            Assert.Equal(JobEventType.Queued, events[0].Type);
            Assert.Equal(JobEventType.Succeeded, events[^1].Type);
            Assert.Contains(events, e => e.Type == JobEventType.Step && e.State == JobState.Running);
            Assert.Equal(events.Select(e => e.Version).Order(), events.Select(e => e.Version));
            Assert.All(events, e => Assert.Equal("alice", e.RequestedBy));
            Assert.Equal((await Jobs(id).GetJobAsync(job.Id))!.Version, events[^1].Version);

            // Without a caller (a reminder, a timer): "system".
            var diagnostics = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.Diagnostics));
            Assert.Equal(Caller.System, diagnostics.RequestedBy);
        }
        finally
        {
            await subscription.UnsubscribeAsync();
        }
    }

    [Fact]
    public async Task A_service_job_runs_through_the_agent_and_records_the_service()
    {
        var id = await CreateAsync(ServerKind.Dhcp);
        var job = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dhcp4, Spec: new ServiceJobSpec(Version: "2.2.0", Port: 6767)));
        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(JobKinds.AddService, job.Kind);

        var command = await TakeOneAsync(id);
        Assert.Equal(CommandKinds.ServiceInstall, command.Kind);
        var args = command.Args!.Value.Deserialize(ContractsJson.Default.ServiceInstallArgs)!;
        Assert.Equal(new ServiceInstallArgs(ServiceKinds.Dhcp4, RuntimeNames.Exec, "2.2.0", null, 6767), args);
        var running = await Jobs(id).GetJobAsync(job.Id);
        Assert.Equal(JobState.Running, running!.State);
        Assert.True(running.Progress > 0);

        await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: Output(Running(ServiceKinds.Dhcp4, "2.2.0"), "config written", "answering")));
        var done = await Jobs(id).GetJobAsync(job.Id);
        Assert.Equal(JobState.Succeeded, done!.State);
        Assert.Equal(100, done.Progress);
        Assert.Contains(done.Steps, s => s.Message == "agent: config written");
        Assert.Contains("\"version\":\"2.2.0\"", done.ResultJson, StringComparison.Ordinal);
        var service = Assert.Single((await Server(id).GetAsync())!.Services);
        Assert.Equal((ServiceKinds.Dhcp4, ServiceStates.Running, "2.2.0"), (service.Kind, service.State, service.Version));

        // Adding an installed service again is an update; managing it is allowed now.
        var update = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dhcp4, Spec: new ServiceJobSpec(Version: "2.2.1"), IdempotencyKey: "add-again"));
        Assert.Equal(JobKinds.UpdateService, update.Kind);
        var retried = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dhcp4, Spec: new ServiceJobSpec(Version: "2.2.1"), IdempotencyKey: "add-again"));
        Assert.Equal(update.Id, retried.Id); // the retried "add" finds the job it became
        var updateCommand = await TakeOneAsync(id);
        await Server(id).CompleteCommandAsync(new CommandResult(updateCommand.CommandId, false, DateTimeOffset.UtcNow, "health check failed; rolled back to 2.2.0", Output(Running(ServiceKinds.Dhcp4, "2.2.0"), "rolled back")));
        var failed = await Jobs(id).GetJobAsync(update.Id);
        Assert.Equal(JobState.Failed, failed!.State);
        Assert.Contains("rolled back to 2.2.0", failed.Error, StringComparison.Ordinal);
        Assert.Contains(failed.Steps, s => s.Message == "agent: rolled back");

        var stop = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.StopService, ServiceKinds.Dhcp4));
        var stopCommand = await TakeOneAsync(id);
        Assert.Equal(CommandKinds.ServiceStop, stopCommand.Kind);
        await Server(id).CompleteCommandAsync(new CommandResult(stopCommand.CommandId, true, DateTimeOffset.UtcNow, Output: Output(Running(ServiceKinds.Dhcp4, "2.2.0") with { State = ServiceStates.Stopped })));
        Assert.Equal(JobState.Succeeded, (await Jobs(id).GetJobAsync(stop.Id))!.State);
        Assert.Equal(ServiceStates.Stopped, Assert.Single((await Server(id).GetAsync())!.Services).State);
        Assert.Equal([stop.Id, update.Id, job.Id], (await Jobs(id).ListJobsAsync()).Select(j => j.Id));
    }

    [Fact]
    public async Task An_idempotency_key_returns_the_first_job_and_refuses_another_action()
    {
        var id = await CreateAsync();
        var first = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.Diagnostics, IdempotencyKey: "key-1"));
        var again = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.Diagnostics, IdempotencyKey: "key-1"));
        Assert.Equal(first.Id, again.Id);
        await Assert.ThrowsAsync<ConflictException>(() => Jobs(id).StartJobAsync(new JobRequest(JobKinds.DebugBundle, IdempotencyKey: "key-1")));
        Assert.Single(await Jobs(id).ListJobsAsync());
        Assert.Single(await Server(id).WaitForCommandsAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_job_waits_for_an_offline_agent_then_fails_clearly_and_is_never_delivered()
    {
        var id = await CreateAsync();
        var job = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.Diagnostics, WaitForAgent: TimeSpan.FromSeconds(2)));
        Assert.Contains(job.Steps, s => s.Message.Contains("waits until", StringComparison.Ordinal));
        var failed = await WaitForJobAsync(id, job.Id, j => j.Finished);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("did not take the job", failed.Error, StringComparison.Ordinal);
        Assert.Empty(await Server(id).WaitForCommandsAsync(TimeSpan.Zero));
    }

    [Fact]
    public async Task Diagnostics_and_debug_bundle_results_are_kept_the_bundle_bytes_in_memory_only()
    {
        var id = await CreateAsync();
        var diagnostics = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.Diagnostics));
        var command = await TakeOneAsync(id);
        var report = new DiagnosticsReport(DateTimeOffset.UtcNow, [new DiagnosticCheck("disk", CheckStatuses.Warn, "9 % free", "free some space"), new DiagnosticCheck("clock", CheckStatuses.Pass, "skew 0.1 s")]);
        await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: JsonSerializer.SerializeToElement(report, ContractsJson.Default.DiagnosticsReport)));
        var done = (await Jobs(id).GetJobAsync(diagnostics.Id))!;
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Contains(done.Steps, s => s.Message == "2 checks: 1 pass, 1 warn, 0 fail");
        Assert.Equal(report.Checks, JsonSerializer.Deserialize(done.ResultJson!, ContractsJson.Default.DiagnosticsReport)!.Checks);

        var bundleJob = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.DebugBundle));
        var bundleCommand = await TakeOneAsync(id);
        var bytes = new byte[300_000];
        Random.Shared.NextBytes(bytes);
        var output = new DebugBundleOutput(bytes.Length, "abc", ["MANIFEST.txt"], false, Convert.ToBase64String(bytes));
        await Server(id).CompleteCommandAsync(new CommandResult(bundleCommand.CommandId, true, DateTimeOffset.UtcNow, Output: JsonSerializer.SerializeToElement(output, ContractsJson.Default.DebugBundleOutput)));
        Assert.Equal(bytes, await Jobs(id).GetDebugBundleAsync(bundleJob.Id));
        var kept = (await Jobs(id).GetJobAsync(bundleJob.Id))!;
        Assert.DoesNotContain(output.BundleBase64[..100], kept.ResultJson, StringComparison.Ordinal);
        var status = await Server(id).WaitForCommandResultAsync(bundleCommand.CommandId, TimeSpan.Zero);
        Assert.Null(status.OutputJson); // the job keeps the result (without the bytes); the command history keeps no copy
    }

    [Fact]
    public async Task A_command_whose_poll_was_abandoned_goes_out_again_at_the_next_poll()
    {
        var id = await CreateAsync();
        var job = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.Diagnostics));
        var first = await TakeOneAsync(id);
        Assert.Equal(JobState.Running, (await Jobs(id).GetJobAsync(job.Id))!.State);

        await Server(id).ReleaseCommandsAsync([first.CommandId]);
        var released = (await Jobs(id).GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Queued, released.State);
        Assert.Contains(released.Steps, s => s.Message.StartsWith("the agent's poll ended", StringComparison.Ordinal));

        // Without the release it would wait for the redelivery delay (60 s); now the next poll has it.
        var again = Assert.Single(await Server(id).WaitForCommandsAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(first.CommandId, again.CommandId);
        Assert.Equal(JobState.Running, (await Jobs(id).GetJobAsync(job.Id))!.State);
    }

    [Fact]
    public async Task Progress_in_heartbeats_moves_a_running_job_and_the_result_does_not_repeat_its_steps()
    {
        var id = await CreateAsync();
        var job = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dns));
        var command = await TakeOneAsync(id);
        var stream = Cluster.Client.GetStreamProvider(StreamNames.IngestProvider).GetStream<Heartbeat>(StreamId.Create(StreamNames.HeartbeatNamespace, id));
        var boot = Guid.NewGuid();
        await stream.OnNextAsync(new Heartbeat(id, Guid.NewGuid(), boot, 1, DateTimeOffset.UtcNow, "1.0", 5, "h", "Debian", Progress: [new CommandProgress(command.CommandId, 40, ["resolved version 3.2.6", "configuration checked"])]));
        var moving = await WaitForJobAsync(id, job.Id, j => j.Progress == 40);
        Assert.Equal(JobState.Running, moving.State);
        Assert.Equal(["agent: resolved version 3.2.6", "agent: configuration checked"], moving.Steps.Where(s => s.Message.StartsWith("agent:", StringComparison.Ordinal)).Select(s => s.Message));

        // A progress report above 95 % is capped (only the result ends a job); the result repeats the steps it already sent.
        await stream.OnNextAsync(new Heartbeat(id, Guid.NewGuid(), boot, 2, DateTimeOffset.UtcNow, "1.0", 6, "h", "Debian", Progress: [new CommandProgress(command.CommandId, 99, ["resolved version 3.2.6", "configuration checked", "started"])]));
        Assert.Equal(95, (await WaitForJobAsync(id, job.Id, j => j.Progress >= 95)).Progress);
        await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: Output(Running(ServiceKinds.Dns, "3.2.6"), "resolved version 3.2.6", "configuration checked", "started", "answering")));
        var done = (await Jobs(id).GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(
            ["agent: resolved version 3.2.6", "agent: configuration checked", "agent: started", "agent: answering"],
            done.Steps.Where(s => s.Message.StartsWith("agent:", StringComparison.Ordinal)).Select(s => s.Message));
    }

    [Fact]
    public async Task Heartbeats_report_services_and_their_versions()
    {
        var id = await CreateAsync(ServerKind.Dhcp);
        var stream = Cluster.Client.GetStreamProvider(StreamNames.IngestProvider).GetStream<Heartbeat>(StreamId.Create(StreamNames.HeartbeatNamespace, id));
        var boot = Guid.NewGuid();
        var failed = new ServiceStatus(ServiceKinds.Dhcp6, ServiceStates.Failed, DateTimeOffset.UtcNow, 3, "2.2.0", RuntimeNames.Docker, "exit code 1");
        await stream.OnNextAsync(new Heartbeat(id, Guid.NewGuid(), boot, 1, DateTimeOffset.UtcNow, "1.0", 5, "h", "Debian", Versions: new Dictionary<string, string?> { ["dhcp6"] = "2.2.0" }, Services: [failed]));
        var snapshot = await WaitAsync(id, s => !s.Services.IsDefaultOrEmpty);
        Assert.Equal((ServiceKinds.Dhcp6, ServiceStates.Failed, 3, "exit code 1"), (snapshot.Services[0].Kind, snapshot.Services[0].State, snapshot.Services[0].RestartCount, snapshot.Services[0].Error));
        Assert.Equal("2.2.0", snapshot.Versions.Dhcp6);

        // The agent no longer has the service: it and its version go.
        await stream.OnNextAsync(new Heartbeat(id, Guid.NewGuid(), boot, 2, DateTimeOffset.UtcNow, "1.0", 6, "h", "Debian", Versions: new Dictionary<string, string?>(), Services: []));
        snapshot = await WaitAsync(id, s => s.Services.IsDefaultOrEmpty);
        Assert.Null(snapshot.Versions.Dhcp6);
    }

    [Fact]
    public async Task A_heartbeat_sent_before_an_install_result_does_not_take_the_new_service_away()
    {
        var id = await CreateAsync(ServerKind.Dhcp);
        var stream = Cluster.Client.GetStreamProvider(StreamNames.IngestProvider).GetStream<Heartbeat>(StreamId.Create(StreamNames.HeartbeatNamespace, id));
        var boot = Guid.NewGuid();
        var builtBefore = DateTimeOffset.UtcNow;
        await Jobs(id).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dhcp4));
        var command = await TakeOneAsync(id);
        await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, true, builtBefore.AddSeconds(1), Output: Output(Running(ServiceKinds.Dhcp4, "2.2.0"))));

        // The agent built this heartbeat (no services yet) before the install finished; it arrives after the result.
        await stream.OnNextAsync(new Heartbeat(id, Guid.NewGuid(), boot, 1, builtBefore, "1.0", 5, "h", "Debian", Services: []));
        var afterStale = await WaitAsync(id, s => s.LastHeartbeat is not null);
        Assert.Equal([ServiceKinds.Dhcp4], afterStale.Services.Select(s => s.Kind));
        await stream.OnNextAsync(new Heartbeat(id, Guid.NewGuid(), boot, 2, builtBefore.AddSeconds(2), "1.0", 6, "h", "Debian", Services: [Running(ServiceKinds.Dhcp4, "2.2.0") with { RestartCount = 1 }]));
        var snapshot = await WaitAsync(id, s => s.LastHeartbeat is not null && s.Services.Length == 1 && s.Services[0].RestartCount == 1);
        Assert.Equal(ServiceKinds.Dhcp4, snapshot.Services[0].Kind); // the later heartbeat counts
    }

    [Fact]
    public async Task A_job_whose_silo_dies_mid_action_finishes_after_failover_once()
    {
        // Create servers until one lives on a secondary silo; start a job there and let the "agent" take it.
        var management = Cluster.Client.GetGrain<IManagementGrain>(0);
        var secondaries = Cluster.SecondarySilos.ToDictionary(s => s.SiloAddress);
        string? id = null;
        SiloHandle? victim = null;
        for (var i = 0; i < 64 && id is null; i++)
        {
            var candidate = await CreateAsync();
            await Server(candidate).GetAsync();
            var stats = await management.GetDetailedGrainStatistics();
            var hit = stats.FirstOrDefault(s => secondaries.ContainsKey(s.SiloAddress) && s.GrainId.Key.ToString() == candidate);
            if (hit is not null)
            {
                (id, victim) = (candidate, secondaries[hit.SiloAddress]);
            }
        }

        Assert.NotNull(id);
        var job = await Jobs(id!).StartJobAsync(new JobRequest(JobKinds.AddService, ServiceKinds.Dns));
        var command = await TakeOneAsync(id!);

        await Cluster.KillSiloAsync(victim!);

        // The grain comes back elsewhere with the job; the agent's next poll gets the same command (same id: the agent
        // answers it from its completed-command store or joins the run in flight), and one result finishes the job.
        var redelivered = await TakeOneAsync(id!);
        Assert.Equal(command.CommandId, redelivered.CommandId);
        var result = new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: Output(Running(ServiceKinds.Dns, "3.2.6")));
        await Server(id!).CompleteCommandAsync(result);
        await Server(id!).CompleteCommandAsync(result); // the agent's retry: changes nothing
        var done = await Jobs(id!).GetJobAsync(job.Id);
        Assert.Equal(JobState.Succeeded, done!.State);
        Assert.Single(done.Steps, s => s.Message == "succeeded");
        Assert.Single(await Jobs(id!).ListJobsAsync());
        Assert.Single((await Server(id!).GetAsync())!.Services);
        await Cluster.StartAdditionalSiloAsync();
    }

    private async Task<ServerSnapshot> WaitAsync(string id, Func<ServerSnapshot, bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            var snapshot = await Server(id).GetAsync();
            if (snapshot is not null && condition(snapshot))
            {
                return snapshot;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"server {id} did not reach the expected state");
    }
}
