using System.Net;
using ManagedServers.Agent.Dns;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Engines;

/// <summary>
/// Knot DNS: <c>knotd</c> with knot.conf rendered by <see cref="KnotConf"/> from the last applied <c>dns.apply</c>
/// (none yet: no zones), checked by <c>knotc conf-check</c>, answering DNS on every listen entry. Its configuration
/// changes go through <see cref="DnsApplier"/> on the <see cref="ConfigApplier"/>.
/// </summary>
internal sealed class KnotEngine : IServiceEngine
{
    public const string ConfigName = "knot.conf";
    public const string SocketName = "knot.sock";

    /// <summary>The one Knot engine (it holds no state).</summary>
    public static KnotEngine Instance { get; } = new();

    public string Kind => ServiceKinds.Dns;

    public string Daemon => "knotd";

    public IReadOnlyList<string> VersionArguments { get; } = ["--version"];

    public string Image => "managedservers/knot";

    public string Component => "dns";

    public string ConfigFileName => ConfigName;

    public string ControlSocketName => SocketName;

    public bool KeepsAppliedConfig => true;

    /// <summary>The DNS service's layout under <paramref name="servicesRoot"/>, for the DNS-only parts of the agent.</summary>
    public static ServiceLayout LayoutIn(string servicesRoot) => ServiceLayout.For(servicesRoot, Instance);

    /// <summary>A DNS service in <paramref name="directory"/> (tests and benchmarks).</summary>
    public static ServiceLayout LayoutAt(string directory) => ServiceLayout.In(directory, Instance);

    /// <summary>"knotd (Knot DNS), version 3.2.6" → 3.2.6.</summary>
    public string? ParseVersion(string output)
    {
        var line = FirstLine(output);
        var at = line?.LastIndexOf("version ", StringComparison.Ordinal) ?? -1;
        return at < 0 ? null : line![(at + "version ".Length)..].Trim();
    }

    public IReadOnlyList<string> ValidateListen(IReadOnlyList<string> listen) => KnotConf.ValidateListen(listen);

    public async Task<RenderedConfig> RenderAsync(ServiceLayout layout, InstalledService record, IServiceRuntime? runtime, CancellationToken cancellationToken)
    {
        var dnstap = runtime is not null && await DnsModules.HasDnstapAsync(runtime, layout, record.Version, cancellationToken);
        var state = DnsAppliedStore.Read(layout);
        var listen = EffectiveListen(state, record);
        var spec = state?.Spec ?? new DnsConfigSpec([], []);
        var applied = state is not null
            ? $"DNS configuration version {state.Version}, {state.Spec.Zones.Count} zone(s)"
            : "no DNS configuration applied yet: no zones";
        return new RenderedConfig(
            KnotConf.Render(spec with { Listen = listen }, layout, listen, dnstap),
            runtime is null || dnstap ? applied : applied + "; this knotd has no mod-dnstap");
    }

    public ServiceSpec SpecOf(ServiceLayout layout, InstalledService record) =>
        new(Kind, record.Version, layout.Directory, [Daemon, "-c", layout.ConfigFile], ["knotc", "-c", layout.ConfigFile, "conf-check"], new Dictionary<string, string>());

    public Task<ProbeResult> ProbeAsync(ServiceLayout layout, InstalledService record, CancellationToken cancellationToken) =>
        ProbeListenAsync(EffectiveListen(layout, record), cancellationToken);

    public ServiceEndpoints Endpoints(ServiceLayout layout, InstalledService record) =>
        new(ProbeEndpoint(EffectiveListen(layout, record)[0]), layout.ControlSocket);

    public string? ListenDisplay(ServiceLayout layout, InstalledService record) => DnsListen.Display(EffectiveListen(layout, record));

    /// <summary>Every one of <paramref name="listen"/> answers DNS (any answer; a wildcard address asked on loopback).</summary>
    public static async Task<ProbeResult> ProbeListenAsync(IReadOnlyList<string> listen, CancellationToken cancellationToken)
    {
        ProbeResult? first = null;
        foreach (var entry in listen)
        {
            var result = await ServiceProbes.DnsAsync(ProbeEndpoint(entry), cancellationToken, ServiceProbes.PollTimeout);
            if (!result.Ok)
            {
                return result;
            }

            first ??= result;
        }

        return first is null ? new ProbeResult(false, "no listen entries", TimeSpan.Zero)
            : listen.Count == 1 ? first
            : first with { Message = $"{first.Message} on each of {DnsListen.Display(listen)}" };
    }

    /// <summary>The listen entries of an installed service: its <see cref="InstalledService.Listen"/> list, else address and port.</summary>
    public static IReadOnlyList<string> InstalledListen(InstalledService record) =>
        record.Listen is { Count: > 0 } listen ? listen : DnsListen.FromAddressAndPort(record.ListenAddress, record.Port);

    /// <summary>
    /// What knot.conf listens on: the service's own listen entries when it has some (set by the install that named
    /// them and by every <c>dns.apply</c> that changed them), else the last applied spec's, else the install's address
    /// and port (services installed before entries were recorded).
    /// </summary>
    public static IReadOnlyList<string> EffectiveListen(ServiceLayout layout, InstalledService record) =>
        record.Listen is { Count: > 0 } listen ? listen : EffectiveListen(DnsAppliedStore.Read(layout), record);

    /// <summary><see cref="EffectiveListen(ServiceLayout, InstalledService)"/> with the applied state already read.</summary>
    private static IReadOnlyList<string> EffectiveListen(DnsAppliedState? applied, InstalledService record) =>
        record.Listen is { Count: > 0 } listen ? listen
        : applied is not null ? KnotConf.EffectiveListen(applied.Spec, InstalledListen(record))
        : InstalledListen(record);

    /// <summary>Where to probe a DNS listen entry: its address and port, loopback when it is a wildcard address.</summary>
    public static IPEndPoint ProbeEndpoint(string listen)
    {
        var endpoint = KnotConf.ParseListen(listen);
        var ip = endpoint.Address;
        if (ip.Equals(IPAddress.Any))
        {
            ip = IPAddress.Loopback;
        }
        else if (ip.Equals(IPAddress.IPv6Any))
        {
            ip = IPAddress.IPv6Loopback;
        }

        return new IPEndPoint(ip, endpoint.Port);
    }

    internal static string? FirstLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
}
