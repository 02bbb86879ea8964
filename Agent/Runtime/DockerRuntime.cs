using System.Globalization;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Runtime;

/// <summary>
/// Runs each service as a container of the local Docker Engine (Docker.DotNet.Enhanced over the unix socket, or
/// <c>DOCKER_HOST</c> / <c>--docker-host</c>). Container <c>ms-SERVERID-KIND</c>, labelled
/// <see cref="ManagedLabel"/>, <see cref="ServerLabel"/>, <see cref="ServiceLabel"/> and <see cref="VersionLabel"/>;
/// host network (DHCP needs it), no restart policy (the agent supervises), the service directory bind-mounted at the
/// same path (config paths are the same as with <see cref="ExecRuntime"/>), running as root.
/// Images: <c>managedservers/knot:ENGINE-msREV</c> (component <c>dns</c>) and <c>managedservers/kea:ENGINE-msREV</c>
/// (component <c>dhcp</c>, both Kea daemons); a version is an image tag.
/// </summary>
internal sealed class DockerRuntime : IServiceRuntime
{
    public const string ManagedLabel = "io.managedservers.managed";
    public const string ServerLabel = "io.managedservers.server";
    public const string ServiceLabel = "io.managedservers.service";
    public const string VersionLabel = "io.managedservers.version";
    public const string ComponentLabel = "io.managedservers.component";
    public const string DefaultEndpoint = "unix:///var/run/docker.sock";

    private readonly DockerClient _client;
    private readonly string _serverId;
    private readonly ServiceEngines _engines;
    private readonly ILogger _logger;

    /// <param name="serverId">Names and labels the containers.</param>
    /// <param name="endpoint">Engine address; null: <c>DOCKER_HOST</c> when set, else <see cref="DefaultEndpoint"/>.</param>
    /// <param name="logger">Where runtime events go.</param>
    /// <param name="engines">The service engines (images, components); the built-in ones when null.</param>
    public DockerRuntime(string serverId, Uri? endpoint, ILogger logger, ServiceEngines? engines = null)
    {
        _engines = engines ?? ServiceEngines.BuiltIn;
        _serverId = serverId;
        _logger = logger;
        Endpoint = endpoint ?? new Uri(Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host ? host : DefaultEndpoint);
        _client = new DockerClientBuilder().WithEndpoint(Endpoint).Build();
    }

    public Uri Endpoint { get; }

    public string Name => RuntimeNames.Docker;

    public string ContainerName(string kind) => $"ms-{_serverId}-{kind}";

    private string ComponentOf(string kind) => _engines.Get(kind).Component;

    public async Task<IReadOnlyList<string>> AvailableVersionsAsync(string kind, CancellationToken cancellationToken) =>
        [.. (await ImagesAsync(kind, cancellationToken)).Select(i => i.Tag)];

    public async Task<string> ResolveVersionAsync(string kind, string? requested, CancellationToken cancellationToken)
    {
        var images = await ImagesAsync(kind, cancellationToken);
        if (requested is null)
        {
            return images.Count > 0
                ? images[0].Tag
                : throw new ServiceRuntimeException($"no {ComponentOf(kind)} image on this host (images labelled {ComponentLabel}={ComponentOf(kind)}); load or pull one first");
        }

        if (images.Any(i => i.Tag == requested))
        {
            return requested;
        }

        var have = images.Count > 0 ? string.Join(", ", images.Select(i => i.Tag)) : "none";
        throw new ServiceRuntimeException($"{kind} version {requested} is not on this host; versions available: {have}");
    }

    public async Task ValidateAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        // A throw-away container of the same image runs the checker over the same bind mount.
        var image = await ImageOfAsync(spec.Kind, spec.Version, cancellationToken);
        var result = await RunOneOffAsync(image, [$"{spec.ServiceDirectory}:{spec.ServiceDirectory}"], spec.CheckCommand, EnvOf(spec), TimeSpan.FromSeconds(30), cancellationToken);
        if (!result.Ok)
        {
            throw new ServiceRuntimeException($"configuration check failed ({string.Join(' ', spec.CheckCommand)}, exit {result.ExitCode}): {result.Output.Trim()}");
        }
    }

    public async Task<ToolResult> RunToolAsync(string kind, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ContainerInspectResponse inspect;
        try
        {
            inspect = await _client.Containers.InspectContainerAsync(ContainerName(kind), cancellationToken);
        }
        catch (DockerContainerNotFoundException e)
        {
            throw new ServiceRuntimeException($"container {ContainerName(kind)} does not exist", e);
        }

        return inspect.State?.Running == true
            ? await ExecAsync(ContainerName(kind), argv, timeout, cancellationToken)
            : await RunOneOffAsync(inspect.Config?.Image ?? throw new ServiceRuntimeException($"container {ContainerName(kind)} has no image"), [.. inspect.HostConfig?.Binds ?? []], argv, [], timeout, cancellationToken);
    }

    public async Task<ToolResult> RunToolInVersionAsync(string kind, string version, string serviceDirectory, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken) =>
        await RunOneOffAsync(await ImageOfAsync(kind, version, cancellationToken), [$"{serviceDirectory}:{serviceDirectory}"], argv, [], timeout, cancellationToken);

    public async Task CreateAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        await RemoveAsync(spec.Kind, cancellationToken);
        var image = await ImageOfAsync(spec.Kind, spec.Version, cancellationToken);
        await _client.Containers.CreateContainerAsync(
            new CreateContainerParameters
            {
                Name = ContainerName(spec.Kind),
                Image = image,
                Cmd = [.. spec.Command],
                Env = EnvOf(spec),
                User = "0:0",
                Labels = new Dictionary<string, string>
                {
                    [ManagedLabel] = "true",
                    [ServerLabel] = _serverId,
                    [ServiceLabel] = spec.Kind,
                    [VersionLabel] = spec.Version,
                },
                HostConfig = new HostConfig
                {
                    NetworkMode = "host",
                    Binds = [$"{spec.ServiceDirectory}:{spec.ServiceDirectory}"],
                    RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No },
                    LogConfig = new LogConfig { Type = "json-file", Config = new Dictionary<string, string> { ["max-size"] = "1m", ["max-file"] = "2" } },
                },
            },
            cancellationToken);
    }

    public async Task StartAsync(string kind, CancellationToken cancellationToken)
    {
        try
        {
            await _client.Containers.StartContainerAsync(ContainerName(kind), new ContainerStartParameters(), cancellationToken);
        }
        catch (DockerContainerNotFoundException e)
        {
            throw new ServiceRuntimeException($"container {ContainerName(kind)} does not exist", e);
        }
        catch (DockerApiException e)
        {
            throw new ServiceRuntimeException($"cannot start container {ContainerName(kind)}: {e.ResponseBody}", e);
        }
    }

    public async Task StopAsync(string kind, TimeSpan grace, CancellationToken cancellationToken)
    {
        try
        {
            await _client.Containers.StopContainerAsync(ContainerName(kind), new ContainerStopParameters { WaitBeforeKillSeconds = (uint)Math.Ceiling(grace.TotalSeconds) }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
        }
    }

    public async Task RestartAsync(string kind, TimeSpan grace, CancellationToken cancellationToken)
    {
        await StopAsync(kind, grace, cancellationToken);
        await StartAsync(kind, cancellationToken);
    }

    public async Task<RuntimeState> InspectAsync(string kind, CancellationToken cancellationToken)
    {
        ContainerInspectResponse inspect;
        try
        {
            inspect = await _client.Containers.InspectContainerAsync(ContainerName(kind), cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            return new RuntimeState(false, false);
        }

        var state = inspect.State;
        var version = Label(inspect.Config?.Labels, VersionLabel);
        DateTimeOffset? startedAt = DateTimeOffset.TryParse(state?.StartedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var s) && s.Year > 1 ? s : null;
        if (state?.Running == true)
        {
            return new RuntimeState(true, true, StartedAt: startedAt, Version: version);
        }

        var code = state is null ? (int?)null : (int)state.ExitCode;
        var error = state switch
        {
            null => "no state",
            { OOMKilled: true } => "killed: out of memory",
            { Error: { Length: > 0 } err } => err,
            { ExitCode: > 128 } => $"killed by signal {state.ExitCode - 128}",
            _ => $"exited with code {state.ExitCode}",
        };
        return new RuntimeState(true, false, code, error, startedAt, version);
    }

    public async Task<string> ReadLogTailAsync(string kind, int maxBytes, CancellationToken cancellationToken)
    {
        try
        {
            return await LogsAsync(ContainerName(kind), maxBytes, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            return string.Empty;
        }
    }

    public async Task RemoveAsync(string kind, CancellationToken cancellationToken)
    {
        try
        {
            await _client.Containers.StopContainerAsync(ContainerName(kind), new ContainerStopParameters { WaitBeforeKillSeconds = 10 }, cancellationToken);
            await _client.Containers.RemoveContainerAsync(ContainerName(kind), new ContainerRemoveParameters { Force = true }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
        }
    }

    public async Task<bool> AdoptAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        var state = await InspectAsync(spec.Kind, cancellationToken);
        if (state.Exists && state.Version == spec.Version)
        {
            return state.Running;
        }

        // Missing, or another version (an update interrupted by an agent crash): make it what services.json says.
        await CreateAsync(spec, cancellationToken);
        return false;
    }

    public async Task RemoveOrphansAsync(IReadOnlyCollection<string> installedKinds, CancellationToken cancellationToken)
    {
        var containers = await _client.Containers.ListContainersAsync(
            new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["label"] = new Dictionary<string, bool> { [$"{ManagedLabel}=true"] = true, [$"{ServerLabel}={_serverId}"] = true },
                },
            },
            cancellationToken);
        foreach (var container in containers)
        {
            var kind = Label(container.Labels, ServiceLabel);
            if (kind is null || !installedKinds.Contains(kind))
            {
                _logger.OrphanContainerRemoved(container.Names?.FirstOrDefault() ?? container.ID);
                await _client.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true }, cancellationToken);
            }
        }
    }

    public async Task<RuntimeHealth> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            var version = await _client.System.GetVersionAsync(cancellationToken);
            return new RuntimeHealth(true, $"docker engine {version.Version} (API {version.APIVersion}) at {Endpoint}");
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return new RuntimeHealth(false, $"docker engine at {Endpoint} does not answer: {e.Message}");
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>"3.2.6-ms2" → (3.2.6, 2) for ordering; other tags order below every parsable one.</summary>
    internal static (System.Version Engine, int Revision) ParseTag(string tag)
    {
        var ms = tag.LastIndexOf("-ms", StringComparison.Ordinal);
        if (ms > 0 && System.Version.TryParse(tag[..ms], out var engine) && int.TryParse(tag[(ms + 3)..], CultureInfo.InvariantCulture, out var revision))
        {
            return (engine, revision);
        }

        return (new System.Version(0, 0), -1);
    }

    private static string? Label(IDictionary<string, string>? labels, string name) =>
        labels is not null && labels.TryGetValue(name, out var value) ? value : null;

    private static List<string> EnvOf(ServiceSpec spec) => [.. spec.Environment.Select(e => $"{e.Key}={e.Value}")];

    private async Task<string> ImageOfAsync(string kind, string version, CancellationToken cancellationToken)
    {
        var images = await ImagesAsync(kind, cancellationToken);
        return images.FirstOrDefault(i => i.Tag == version)?.Reference
            ?? throw new ServiceRuntimeException($"{kind} version {version} is not on this host; versions available: {(images.Count > 0 ? string.Join(", ", images.Select(i => i.Tag)) : "none")}");
    }

    /// <summary>Local images of the component, newest first (by engine version and revision, then creation).</summary>
    private async Task<List<ImageTag>> ImagesAsync(string kind, CancellationToken cancellationToken)
    {
        IList<ImagesListResponse> images;
        try
        {
            images = await _client.Images.ListImagesAsync(
                new ImagesListParameters
                {
                    Filters = new Dictionary<string, IDictionary<string, bool>>
                    {
                        ["label"] = new Dictionary<string, bool> { [$"{ComponentLabel}={ComponentOf(kind)}"] = true },
                    },
                },
                cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new ServiceRuntimeException($"docker engine at {Endpoint} does not answer: {e.Message}", e);
        }

        var tags = new List<ImageTag>();
        foreach (var image in images)
        {
            foreach (var reference in image.RepoTags ?? [])
            {
                var colon = reference.LastIndexOf(':');
                if (colon > 0 && reference.IndexOf('/', colon) < 0)
                {
                    tags.Add(new ImageTag(reference, reference[(colon + 1)..], image.Created));
                }
            }
        }

        return [.. tags
            .GroupBy(t => t.Tag, StringComparer.Ordinal).Select(g => g.First())
            .OrderByDescending(t => ParseTag(t.Tag).Engine)
            .ThenByDescending(t => ParseTag(t.Tag).Revision)
            .ThenByDescending(t => t.Created)];
    }

    /// <summary><c>docker exec</c> of <paramref name="argv"/> in a running container, as root, to its end.</summary>
    private async Task<ToolResult> ExecAsync(string container, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            var exec = await _client.Exec.CreateContainerExecAsync(
                container,
                new ContainerExecCreateParameters { Cmd = [.. argv], AttachStdout = true, AttachStderr = true, User = "0:0" },
                limit.Token);
            string stdout;
            string stderr;
            using (var stream = await _client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters { Detach = false }, limit.Token))
            {
                (stdout, stderr) = await stream.ReadOutputToEndAsync(limit.Token);
            }

            var inspect = await _client.Exec.InspectContainerExecAsync(exec.ID, limit.Token);
            var output = stdout + stderr;
            return output.Contains("executable file not found", StringComparison.Ordinal)
                ? new ToolResult(ToolResult.NotFound, $"{argv[0]} is not in container {container}")
                : new ToolResult((int)(inspect.ExitCode ?? -1), output);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServiceRuntimeException($"{string.Join(' ', argv)} in container {container} did not finish within {timeout.TotalSeconds:0} s");
        }
        catch (DockerApiException e)
        {
            throw new ServiceRuntimeException($"cannot run {argv[0]} in container {container}: {e.ResponseBody}", e);
        }
    }

    /// <summary>A throw-away container of <paramref name="image"/> runs <paramref name="argv"/> with <paramref name="binds"/> (the service directory).</summary>
    private async Task<ToolResult> RunOneOffAsync(string image, List<string> binds, IReadOnlyList<string> argv, List<string> env, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CreateContainerResponse created;
        try
        {
            created = await _client.Containers.CreateContainerAsync(
                new CreateContainerParameters
                {
                    Image = image,
                    Cmd = [.. argv],
                    Env = env,
                    User = "0:0",
                    Labels = new Dictionary<string, string> { [ManagedLabel] = "true", [ServerLabel] = _serverId },
                    HostConfig = new HostConfig { NetworkMode = "host", Binds = binds },
                },
                cancellationToken);
        }
        catch (DockerApiException e)
        {
            throw new ServiceRuntimeException($"cannot create a container of {image} to run {argv[0]}: {e.ResponseBody}", e);
        }

        try
        {
            try
            {
                await _client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellationToken);
            }
            catch (DockerApiException e) when (e.ResponseBody?.Contains("executable file not found", StringComparison.Ordinal) == true)
            {
                return new ToolResult(ToolResult.NotFound, $"{argv[0]} is not in image {image}");
            }

            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            ContainerWaitResponse wait;
            try
            {
                wait = await _client.Containers.WaitContainerAsync(created.ID, limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ServiceRuntimeException($"{string.Join(' ', argv)} in a container of {image} did not finish within {timeout.TotalSeconds:0} s");
            }

            return new ToolResult((int)wait.StatusCode, await LogsAsync(created.ID, 64 * 1024, cancellationToken));
        }
        finally
        {
            await _client.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
        }
    }

    private async Task<string> LogsAsync(string container, int maxBytes, CancellationToken cancellationToken)
    {
        using var stream = await _client.Containers.GetContainerLogsAsync(
            container,
            new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = "2000" },
            cancellationToken);
        var collected = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken);
            if (read.EOF)
            {
                break;
            }

            collected.Write(buffer, 0, read.Count);
        }

        var bytes = collected.ToArray();
        var start = Math.Max(0, bytes.Length - maxBytes);
        return Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
    }

    private sealed record ImageTag(string Reference, string Tag, DateTime Created);
}
