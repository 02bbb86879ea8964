using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>A test class with its own silo process and scratch directory, removed afterwards.</summary>
public abstract class SiloTestBase(string prefix, IDictionary<string, string>? siloArgs = null) : IAsyncLifetime
{
    protected string Dir { get; } = Path.Combine(Path.GetTempPath(), $"ms-{prefix}-" + Guid.NewGuid().ToString("N")[..10]);

    /// <summary>Liveness bound of <see cref="WaitAsync"/>.</summary>
    protected static TimeSpan Patience { get; } = TimeSpan.FromSeconds(90);

    protected SiloProcess Silo { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Silo = new SiloProcess(Path.Combine(Dir, "silo"), siloArgs);
        await Silo.StartAsync();
    }

    public virtual async Task DisposeAsync()
    {
        ServicesTests.KillDaemonsUnder(Dir); // the exec runtime's daemons outlive their agent
        await Silo.DisposeAsync();
        try
        {
            Directory.Delete(Dir, true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Polls <paramref name="read"/> until <paramref name="done"/>; on timeout fails with the last value read and the agent's and the silo's logs.</summary>
    protected async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, ChildProcess agent)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = default(T);
        while (true)
        {
            try
            {
                var value = last = await read();
                if (done(value))
                {
                    return value;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (Xunit.Sdk.XunitException e)
            {
                Assert.Fail(e.Message + "\nsilo:\n" + Silo.Output);
            }

            if (clock.Elapsed > Patience)
            {
                Assert.Fail($"Timed out after {Patience.TotalSeconds:0} s waiting for {what}; last read: {last}\nagent:\n{agent.Output}\nsilo:\n{Silo.Output}");
            }

            await Task.Delay(500);
        }
    }

    /// <summary>Enrols an agent for <paramref name="serverId"/> from a fresh setup bundle; returns its state directory.</summary>
    protected async Task<string> EnrolAsync(string serverId, string stateName)
    {
        var stateDir = Path.Combine(Dir, stateName);
        var (code, text) = await AgentProcess.EnrollAsync(await Silo.WriteBundleAsync(serverId, Path.Combine(Dir, "bundles")), stateDir);
        Assert.True(code == 0, text);
        return stateDir;
    }

    /// <summary>Waits until the server's agent has reported in.</summary>
    protected Task WaitRunningAsync(string serverId, ChildProcess agent) =>
        WaitAsync(() => Silo.GetServerAsync(serverId), s => s!.State == "running", "agent running", agent);

    /// <summary>Installs the dns service on a free loopback port (the job must succeed); returns the port.</summary>
    protected async Task<int> InstallDnsAsync(string serverId, ChildProcess agent)
    {
        var port = Build.FreePort();
        var install = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{serverId}/services", new AddServiceRequest("dns", Listen: [$"127.0.0.1@{port}"])), agent);
        Assert.True(install.State == "succeeded", $"install failed: {install.Error}\n{string.Join('\n', install.Steps.Select(s => s.Message))}\nagent:\n{agent.Output}");
        return port;
    }

    /// <summary>Starts a job (202 expected) and returns it.</summary>
    protected async Task<JobView> StartJobAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, Silo.BaseUrl + path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: ContractsJson.WireOptions);
        }

        using var response = await Silo.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<JobView>(text, ContractsJson.WireOptions)!;
    }

    /// <summary>Follows a job to its end.</summary>
    protected Task<JobView> FinishAsync(JobView job, ChildProcess agent) =>
        WaitAsync(
            async () => (await Silo.Http.GetFromJsonAsync<JobView>($"{Silo.BaseUrl}/api/v1/jobs/{job.JobId}?wait_seconds=10&version={job.Version}", ContractsJson.WireOptions))!,
            j => j.State is "succeeded" or "failed",
            $"job {job.JobId} ({job.Kind}) finished",
            agent);

    /// <summary>Time between consecutive samples.</summary>
    protected static List<TimeSpan> Gaps(IReadOnlyList<SystemSampleView> samples) =>
        [.. samples.Zip(samples.Skip(1), (a, b) => b.Time - a.Time)];
}
