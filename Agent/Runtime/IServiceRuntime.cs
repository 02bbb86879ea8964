using ManagedServers.Agent.Services;

namespace ManagedServers.Agent.Runtime;

/// <summary>
/// Runs the service processes of one agent: containers through the local Docker Engine (<see cref="DockerRuntime"/>)
/// or host processes the agent supervises (<see cref="ExecRuntime"/>). One instance per service kind at a time; the
/// runtime does no supervision of its own (no docker restart policy): <see cref="ServiceManager"/> decides.
/// Failures a caller should show as they are throw <see cref="ServiceRuntimeException"/>.
/// </summary>
internal interface IServiceRuntime : IAsyncDisposable
{
    /// <summary><see cref="Contracts.Agent.RuntimeNames.Docker"/> or <see cref="Contracts.Agent.RuntimeNames.Exec"/>.</summary>
    string Name { get; }

    /// <summary>
    /// The version to run: <paramref name="requested"/> when the host has it, the newest it has when null.
    /// Throws <see cref="ServiceRuntimeException"/> naming the versions the host has when it does not.
    /// </summary>
    Task<string> ResolveVersionAsync(string kind, string? requested, CancellationToken cancellationToken);

    /// <summary>The versions of <paramref name="kind"/> this host can run.</summary>
    Task<IReadOnlyList<string>> AvailableVersionsAsync(string kind, CancellationToken cancellationToken);

    /// <summary>Checks a generated configuration with the service's own checker (e.g. <c>knotc conf-check</c>); throws when invalid.</summary>
    Task ValidateAsync(ServiceSpec spec, CancellationToken cancellationToken);

    /// <summary>Creates (replacing any previous one) the service without starting it.</summary>
    Task CreateAsync(ServiceSpec spec, CancellationToken cancellationToken);

    Task StartAsync(string kind, CancellationToken cancellationToken);

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>. Stopping a stopped service is not an error.</summary>
    Task StopAsync(string kind, TimeSpan grace, CancellationToken cancellationToken);

    Task RestartAsync(string kind, TimeSpan grace, CancellationToken cancellationToken);

    /// <summary>What runs now; <see cref="RuntimeState.Exists"/> false when nothing was created.</summary>
    Task<RuntimeState> InspectAsync(string kind, CancellationToken cancellationToken);

    /// <summary>The last <paramref name="maxBytes"/> bytes of the service's output (stdout and stderr).</summary>
    Task<string> ReadLogTailAsync(string kind, int maxBytes, CancellationToken cancellationToken);

    /// <summary>Stops and removes the service (container or process); its directory on the host stays.</summary>
    Task RemoveAsync(string kind, CancellationToken cancellationToken);

    /// <summary>
    /// At agent start: takes over what a previous agent process left (<paramref name="spec"/> is the installed
    /// service). Returns true when the service already runs as specified and was adopted as is.
    /// </summary>
    Task<bool> AdoptAsync(ServiceSpec spec, CancellationToken cancellationToken);

    /// <summary>Removes what this runtime runs for kinds that are not installed (e.g. left by an interrupted install).</summary>
    Task RemoveOrphansAsync(IReadOnlyCollection<string> installedKinds, CancellationToken cancellationToken);

    Task<RuntimeHealth> CheckAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs a tool of the service's package (<c>knotc</c>, <c>kzonecheck</c>) to its end: exec, the host binary; docker,
    /// <c>docker exec</c> in the running container, or a one-off container of the service's image (its directory
    /// mounted) when it does not run. <paramref name="argv"/>[0] is the tool. A tool that is not there answers
    /// <see cref="ToolResult.NotFound"/>; one that outlives <paramref name="timeout"/> is killed and throws
    /// <see cref="ServiceRuntimeException"/>.
    /// </summary>
    Task<ToolResult> RunToolAsync(string kind, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="RunToolAsync"/> with the tools of <paramref name="version"/> (docker: a one-off container of that image
    /// with <paramref name="serviceDirectory"/> mounted, whether or not the service exists; exec: the host's tools, the
    /// only version there is).
    /// </summary>
    Task<ToolResult> RunToolInVersionAsync(string kind, string version, string serviceDirectory, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>How a tool ended: its exit code and its output (stdout then stderr).</summary>
internal sealed record ToolResult(int ExitCode, string Output)
{
    /// <summary>The shell's "command not found" code: the tool is not installed (host) or not in the image.</summary>
    public const int NotFound = 127;

    public bool Ok => ExitCode == 0;
}

/// <summary>
/// One service to run: its <see cref="Version"/>, its directory on the host (<see cref="ServiceDirectory"/>, mounted
/// at the same path in a container) and the command line, identical in both runtimes.
/// </summary>
internal sealed record ServiceSpec(string Kind, string Version, string ServiceDirectory, IReadOnlyList<string> Command, IReadOnlyList<string> CheckCommand, IReadOnlyDictionary<string, string> Environment);

/// <summary>What a runtime sees: whether the service exists, runs, and how it last ended.</summary>
internal sealed record RuntimeState(bool Exists, bool Running, int? ExitCode = null, string? Error = null, DateTimeOffset? StartedAt = null, string? Version = null);

/// <summary>A runtime failure with a message meant for the operator.</summary>
internal sealed class ServiceRuntimeException : Exception
{
    public ServiceRuntimeException()
    {
    }

    public ServiceRuntimeException(string message)
        : base(message)
    {
    }

    public ServiceRuntimeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
