using System.Diagnostics;
using System.Text.Json;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Engines;

/// <summary>
/// A test-only service engine, registered from this project: <c>echo-daemon</c> (a shell script written into a bin
/// directory) serves its configuration by copying it to <c>run/served</c> when a <c>run/reload</c> file appears;
/// <c>--check</c> refuses a configuration containing "invalid"; a configuration containing "unhealthy" passes the
/// check but is not served (so the health check fails and the applier rolls back).
/// </summary>
internal sealed class EchoEngine : IServiceEngine
{
    public const string EngineKind = "echo";

    private const string Script = """
        #!/bin/sh
        case "$1" in
          --version) echo "echo-daemon 1.0"; exit 0 ;;
          --check) if grep -q invalid "$2"; then echo "line 1: 'invalid' is not allowed"; exit 1; fi; exit 0 ;;
        esac
        conf="$1"; run="$2"
        serve() { if grep -q unhealthy "$conf"; then echo "refusing an unhealthy configuration" > "$run/served"; else cp "$conf" "$run/served"; fi; }
        serve
        while :; do
          if [ -e "$run/reload" ]; then rm -f "$run/reload"; serve; fi
          sleep 0.05
        done
        """;

    public string Kind => EngineKind;

    public string Daemon => "echo-daemon";

    public IReadOnlyList<string> VersionArguments { get; } = ["--version"];

    public string Image => "managedservers/echo";

    public string Component => "echo";

    public string ConfigFileName => "echo.conf";

    public string ControlSocketName => "echo.sock";

    public bool KeepsAppliedConfig => true;

    /// <summary>Writes <c>echo-daemon</c> into <paramref name="binDirectory"/>.</summary>
    public static void InstallDaemon(string binDirectory)
    {
        Directory.CreateDirectory(binDirectory);
        var path = Path.Combine(binDirectory, "echo-daemon");
        File.WriteAllText(path, Script.Replace("\r", string.Empty, StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string? ParseVersion(string output) => output.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();

    public IReadOnlyList<string> ValidateListen(IReadOnlyList<string> listen) => throw new ArgumentException("echo takes no listen entries");

    public Task<RenderedConfig> RenderAsync(ServiceLayout layout, InstalledService record, IServiceRuntime? runtime, CancellationToken cancellationToken) =>
        Task.FromResult(new RenderedConfig("hello from the install\n", "the install's greeting"));

    public ServiceSpec SpecOf(ServiceLayout layout, InstalledService record) =>
        new(Kind, record.Version, layout.Directory, [Daemon, layout.ConfigFile, layout.RunDirectory], [Daemon, "--check", layout.ConfigFile], new Dictionary<string, string>());

    public Task<ProbeResult> ProbeAsync(ServiceLayout layout, InstalledService record, CancellationToken cancellationToken) =>
        Task.FromResult(File.Exists(Served(layout)) ? new ProbeResult(true, "serving", TimeSpan.Zero) : new ProbeResult(false, "nothing served yet", TimeSpan.Zero));

    public ServiceEndpoints Endpoints(ServiceLayout layout, InstalledService record) => new(null, layout.ControlSocket);

    public string? ListenDisplay(ServiceLayout layout, InstalledService record) => null;

    public static string Served(ServiceLayout layout) => Path.Combine(layout.RunDirectory, "served");

    public static string AppliedVersionFile(ServiceLayout layout) => Path.Combine(layout.DataDirectory, "applied-version");
}

/// <summary>An <c>echo</c> configuration change: new text for echo.conf, checked by <c>echo-daemon --check</c>, served after a reload.</summary>
internal sealed class EchoChange(IServiceRuntime runtime, ServiceLayout layout, string text, int version) : IConfigChange
{
    private readonly string? _previous = File.Exists(layout.ConfigFile) ? File.ReadAllText(layout.ConfigFile) : null;
    private readonly string? _previousVersion = File.Exists(EchoEngine.AppliedVersionFile(layout)) ? File.ReadAllText(EchoEngine.AppliedVersionFile(layout)) : null;

    public string PreviousName => _previousVersion is null ? "the configuration of the install" : $"version {_previousVersion}";

    public async Task<IReadOnlyList<StagedFile>?> StageAsync(string staging, CancellationToken cancellationToken)
    {
        if (_previous == text)
        {
            return null;
        }

        var candidate = Path.Combine(staging, layout.ConfigFileName);
        await File.WriteAllTextAsync(candidate, text, cancellationToken);
        var check = await runtime.RunToolAsync(layout.Kind, ["echo-daemon", "--check", candidate], TimeSpan.FromSeconds(10), cancellationToken);
        return check.Ok ? [new StagedFile(candidate, layout.ConfigFile)] : throw new InvalidOperationException($"echo.conf refused: {check.Output.Trim()}");
    }

    public string DescribeSwitch(IReadOnlyList<SwitchedFile> switched) => "echo.conf replaced";

    public Task<string?> ActivateAsync(CancellationToken cancellationToken) => ReloadAsync();

    public Task<string?> CheckHealthAsync(CancellationToken cancellationToken) => ServesAsync(text);

    public void Commit(bool running) => File.WriteAllText(EchoEngine.AppliedVersionFile(layout), version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public async Task<string?> RestorePreviousAsync(IReadOnlyList<SwitchedFile> switched, CancellationToken cancellationToken) =>
        await ReloadAsync() ?? await ServesAsync(_previous ?? string.Empty);

    private Task<string?> ReloadAsync()
    {
        File.WriteAllText(Path.Combine(layout.RunDirectory, "reload"), string.Empty);
        return Task.FromResult<string?>(null);
    }

    private async Task<string?> ServesAsync(string expected)
    {
        var watch = Stopwatch.StartNew();
        var served = string.Empty;
        while (watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            served = File.Exists(EchoEngine.Served(layout)) ? await File.ReadAllTextAsync(EchoEngine.Served(layout)) : string.Empty;
            if (served == expected)
            {
                return null;
            }

            await Task.Delay(50);
        }

        return $"echo serves '{served.Trim()}', not the configuration applied";
    }
}

/// <summary>
/// <c>echo.apply</c>: the echo service's configuration through the <see cref="ConfigApplier"/>, under the service's gate.
/// Arguments <c>{"text", "version"}</c> (extra fields ignored); output <c>{"outcome", "said", "rolled_back", "steps"}</c>,
/// where <c>said</c> is the text now live.
/// </summary>
internal sealed class EchoApplyCommandHandler(ServiceManager manager) : ICommandHandler
{
    public const string CommandKind = "echo.apply";

    public string Kind => CommandKind;

    public async Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken cancellationToken)
    {
        var args = command.Args!.Value.Deserialize<EchoApplyArgs>(JsonSerializerOptions.Web)!;
        var steps = new StepLog();
        ApplyResult result;
        try
        {
            result = await manager.WithServiceAsync(
                EchoEngine.EngineKind,
                (runtime, _, layout) => ConfigApplier.ApplyAsync(runtime, layout, new EchoChange(runtime, layout, args.Text, args.Version), steps, cancellationToken),
                cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            return new CommandResult(command.CommandId, false, DateTimeOffset.UtcNow, e.Message);
        }

        var rolledBack = result.Outcome == ApplyOutcome.RolledBack;
        var output = JsonSerializer.SerializeToElement(new { outcome = result.Outcome.ToString(), said = rolledBack ? null : args.Text, rolled_back = rolledBack, steps = steps.ToArray() });
        return rolledBack
            ? new CommandResult(command.CommandId, false, DateTimeOffset.UtcNow, result.Message, output)
            : new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: output);
    }
}

/// <summary>The arguments of <c>echo.apply</c>.</summary>
internal sealed record EchoApplyArgs(string Text, int Version);
