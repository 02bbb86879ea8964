using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Enrollment;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Services;
using ManagedServers.Agent.Tests.Engines;
using ManagedServers.Grains.Interfaces.Servers;
using ManagedServers.Grains.Servers.Jobs;
using ManagedServers.Grains.Tests;
using ManagedServers.Silo.Tests.E2E;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace ManagedServers.Silo.Tests.InProcess;

/// <summary>
/// Both halves of the core at once, with nothing of the product edited: a silo (in this process, real ports, SQLite)
/// with the test-only <c>echo</c> job kind registered from outside, and a real agent host (in this process, enrolled over
/// the real enrolment API, mTLS) with the test-only <c>echo</c> engine and <c>echo.apply</c> command. An echo job runs
/// through the server's workflow, the agent's command loop, the generic config applier and the config versions; a
/// change that fails its health check is rolled back by the applier and recorded as failed; the job event stream
/// (the API's server-sent events) follows both, naming who asked.
/// </summary>
public sealed class EchoEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly EchoSiloHost _silo = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("ms-echo-e2e-").FullName;
    private IHost? _agent;

    public Task InitializeAsync() => ((IAsyncLifetime)_silo).InitializeAsync();

    [Fact]
    public async Task An_echo_job_runs_through_workflow_agent_applier_versions_and_event_stream_and_a_bad_change_rolls_back()
    {
        var server = await _silo.CreateServerAsync("echo-e2e", kind: "backup", runtime: "exec");
        var bundle = Path.Combine(_dir, "bundle.json");
        await File.WriteAllBytesAsync(bundle, await _silo.Admin.GetByteArrayAsync($"/api/v1/servers/{server.Id}/setup-bundle"));
        var stateDir = Path.Combine(_dir, "state");
        using (var errors = new StringWriter())
        {
            Assert.True(await EnrollCommand.RunAsync(bundle, stateDir, TextWriter.Null, errors, TimeProvider.System, CancellationToken.None) == 0, errors.ToString());
        }

        var bin = Path.Combine(_dir, "bin");
        EchoEngine.InstallDaemon(bin);
        _agent = AgentHost.Build(
            new AgentRunOptions { StateDir = stateDir, ServiceBinDirectory = bin },
            b =>
            {
                b.Services.AddServiceEngine(new EchoEngine());
                b.Services.AddSingleton<ICommandHandler, EchoApplyCommandHandler>();
            });
        await _agent.StartAsync();
        Phase("silo up, agent enrolled and started");
        await WaitAsync(async () => (await _silo.GetServerAsync(server.Id))?.State == "running", "the agent running");
        Phase("agent running");
        var manager = _agent.Services.GetRequiredService<ServiceManager>();
        var installed = await manager.InstallAsync(new ServiceInstallArgs(EchoEngine.EngineKind, RuntimeNames.Exec), CancellationToken.None);
        Assert.Equal(ServiceStates.Running, installed.Service!.State);
        var layout = manager.Engines.Layout(manager.ServicesRoot, EchoEngine.EngineKind);
        Phase("echo installed");

        using var events = await JobEventFollower.OpenAsync(_silo.BaseUrl, _silo.Admin.DefaultRequestHeaders.Authorization!, server.Id);
        Phase("following job events");
        var grains = _silo.Services.GetRequiredService<IGrainFactory>();
        var jobs = grains.GetGrain<IServerJobsGrain>(server.Id);
        var versions = grains.GetGrain<IServerConfigVersionsGrain>(server.Id);

        // A change goes live: planned by the handler, applied by the agent through the applier, recorded as version 1.
        var live = await RunAsync(jobs, events, new EchoSpec("version one\n", 1));
        Phase("first job finished");
        Assert.True(live.Job.State == JobState.Succeeded, Describe(live.Job));
        Assert.Contains(live.Job.Steps, s => s.Message == "agent said: version one\n");
        Assert.Equal("version one\n", await File.ReadAllTextAsync(EchoEngine.Served(layout)));
        var v1 = Assert.Single(await versions.ListServiceConfigVersionsAsync(EchoEngine.EngineKind));
        Assert.Equal((1, true, live.Job.Id), (v1.Number, v1.Live, v1.JobId));
        Assert.Equal("version one\n", (await versions.GetServiceConfigVersionAsync(EchoEngine.EngineKind, 1))!.Content);

        // Passes the agent's validation, fails its health check: the applier rolls back, the job fails, no version.
        var bad = await RunAsync(jobs, events, new EchoSpec("unhealthy two\n", 1));
        Phase("second job finished");
        Assert.True(bad.Job.State == JobState.Failed, Describe(bad.Job));
        Assert.Contains(bad.Job.Steps, s => s.Message == "echo rolled back");
        Assert.Contains("rolled back to version 1", bad.Job.Error, StringComparison.Ordinal);
        Assert.Equal("version one\n", await File.ReadAllTextAsync(layout.ConfigFile));
        Assert.Equal("version one\n", await File.ReadAllTextAsync(EchoEngine.Served(layout)));
        Assert.Equal([1], (await versions.ListServiceConfigVersionsAsync(EchoEngine.EngineKind)).Select(v => v.Number));

        // The event stream followed both, in order, naming who asked.
        foreach (var (run, last) in new[] { (live, "succeeded"), (bad, "failed") })
        {
            var summary = string.Join("\n", run.Events.Select(e => $"{e.Version} {e.Type} {e.State} {e.Message}"));
            Assert.True(run.Events[0].Type == "queued" && run.Events[^1].Type == last, summary);
            Assert.Contains(run.Events, e => e.Type == "step");
            Assert.All(run.Events, e => Assert.Equal("alice", e.RequestedBy));
            Assert.Equal(run.Events.Select(e => e.Version).Order(), run.Events.Select(e => e.Version));
        }
    }

    private static async Task<(JobSnapshot Job, List<JobEventView> Events)> RunAsync(IServerJobsGrain jobs, JobEventFollower events, EchoSpec spec)
    {
        RequestContext.Set(Caller.Key, "alice");
        JobSnapshot started;
        try
        {
            started = await jobs.StartJobAsync(new JobRequest(EchoJobHandler.Kind, Spec: spec));
        }
        finally
        {
            RequestContext.Clear();
        }

        Assert.Equal("alice", started.RequestedBy);
        var seen = await events.UntilFinishedAsync(started.Id, Patience);
        return ((await jobs.GetJobAsync(started.Id))!, seen);
    }

    private void Phase(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:0.0} s  {what}");

    private static string Describe(JobSnapshot job) => $"{job.State}: {job.Error}\n{string.Join('\n', job.Steps.Select(s => s.Message))}";

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < Patience, $"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            try
            {
                await _agent.Services.GetRequiredService<ServiceManager>().RemoveAsync(EchoEngine.EngineKind, CancellationToken.None);
            }
            catch (ServiceCommandException)
            {
            }

            await _agent.StopAsync();
            _agent.Dispose();
        }

        // Services outlive their agent: end any echo daemon of this test that the removal did not.
        using (var kill = Process.Start("pkill", ["-f", _dir]))
        {
            await kill.WaitForExitAsync();
        }

        await ((IAsyncLifetime)_silo).DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The in-process silo on real ports (SQLite), with the echo job kind added to its services.</summary>
    private sealed class EchoSiloHost() : ApiHost(ApiHostMode.Sqlite, kestrel: true)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddJobHandler<EchoJobHandler>());
        }
    }
}
