using System.Text.Json.Nodes;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Engines;

/// <summary>
/// Kea DHCPv4 or DHCPv6: <c>kea-dhcp4</c>/<c>kea-dhcp6</c> with a JSON configuration (no interfaces yet: it serves
/// nothing until DHCP configuration is pushed), checked by <c>-t</c>, answering <c>status-get</c> on its unix control socket.
/// </summary>
internal sealed class KeaEngine : IServiceEngine
{
    private readonly bool _v4;

    private KeaEngine(bool v4)
    {
        _v4 = v4;
    }

    public static KeaEngine V4 { get; } = new(v4: true);

    public static KeaEngine V6 { get; } = new(v4: false);

    /// <summary>Kea's hook libraries, the same path on the host and in the image (Debian multiarch).</summary>
    public static string HooksDirectory { get; } = FindHooks();

    public string Kind => _v4 ? ServiceKinds.Dhcp4 : ServiceKinds.Dhcp6;

    public string Daemon => _v4 ? "kea-dhcp4" : "kea-dhcp6";

    public IReadOnlyList<string> VersionArguments { get; } = ["-v"];

    public string Image => "managedservers/kea";

    public string Component => "dhcp";

    public string ConfigFileName => $"kea-{Kind}.conf";

    public string ControlSocketName => $"kea-{Kind}.sock";

    /// <summary>A pushed configuration (<c>dhcp.apply</c>) is the file on disk: starts and restarts keep it.</summary>
    public bool KeepsAppliedConfig => true;

    /// <summary>Kea's <c>-v</c> prints the bare version.</summary>
    public string? ParseVersion(string output) => KnotEngine.FirstLine(output);

    public IReadOnlyList<string> ValidateListen(IReadOnlyList<string> listen) =>
        throw new ArgumentException($"listen entries are for the dns service, not {Kind}");

    /// <summary>
    /// The configuration last applied by a <c>dhcp.apply</c> (an update to another Kea version keeps serving it, checked by
    /// the new version's <c>-t</c>), or the install's when none was.
    /// </summary>
    public async Task<RenderedConfig> RenderAsync(ServiceLayout layout, InstalledService record, IServiceRuntime? runtime, CancellationToken cancellationToken)
    {
        var applied = Dhcp.KeaChange.AppliedVersionFile(layout);
        if (!File.Exists(applied) || !File.Exists(layout.ConfigFile))
        {
            return new RenderedConfig(Render(layout, record));
        }

        // The service's own settings (interfaces) may have changed with this deploy: set them again.
        var document = Dhcp.KeaDocuments.Parse(await File.ReadAllTextAsync(layout.ConfigFile, cancellationToken));
        Dhcp.KeaDocuments.Confine(document, this, layout, record);
        return new RenderedConfig(Dhcp.KeaDocuments.Write(document), $"applied version {(await File.ReadAllTextAsync(applied, cancellationToken)).Trim()}");
    }

    /// <summary><c>kea-dhcpN -c FILE</c>, with <c>-p PORT</c> when the service was given a port.</summary>
    public ServiceSpec SpecOf(ServiceLayout layout, InstalledService record)
    {
        // Kea writes its pid file and log lock file to these; the defaults (/run/kea) would clash between instances.
        var environment = new Dictionary<string, string>
        {
            ["KEA_PIDFILE_DIR"] = layout.RunDirectory,
            ["KEA_LOCKFILE_DIR"] = layout.RunDirectory,
        };
        IReadOnlyList<string> command = record.Port is { } port
            ? [Daemon, "-c", layout.ConfigFile, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]
            : [Daemon, "-c", layout.ConfigFile];
        return new ServiceSpec(Kind, record.Version, layout.Directory, command, [Daemon, "-t", layout.ConfigFile], environment);
    }

    public Task<ProbeResult> ProbeAsync(ServiceLayout layout, InstalledService record, CancellationToken cancellationToken) =>
        ServiceProbes.KeaStatusAsync(layout.ControlSocket, cancellationToken, ServiceProbes.PollTimeout);

    public ServiceEndpoints Endpoints(ServiceLayout layout, InstalledService record) => new(null, layout.ControlSocket);

    /// <summary>The interfaces and port the service was added with ("lo port 10067"); null when it was given none.</summary>
    public string? ListenDisplay(ServiceLayout layout, InstalledService record) =>
        record.Interfaces is null && record.Port is null ? null
            : $"{(record.Interfaces is { Count: > 0 } i ? string.Join(", ", i) : "no interfaces")} port {record.Port?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? (_v4 ? "67" : "547")}";

    /// <summary>
    /// The configuration a Kea service starts with: no interfaces, memfile leases, the lease and statistics hooks, logs to
    /// stdout; the agent's own paths (control socket, lease file, IPv6 data directory) set as for every pushed document.
    /// </summary>
    internal string Render(ServiceLayout layout, InstalledService? record = null)
    {
        var root = new JsonObject
        {
            [_v4 ? "Dhcp4" : "Dhcp6"] = new JsonObject
            {
                ["interfaces-config"] = new JsonObject { ["interfaces"] = new JsonArray() },
                ["lease-database"] = new JsonObject { ["type"] = "memfile", ["persist"] = true, ["lfc-interval"] = 3600 },
                ["hooks-libraries"] = new JsonArray
                {
                    new JsonObject { ["library"] = "libdhcp_lease_cmds.so" },
                    new JsonObject { ["library"] = "libdhcp_stat_cmds.so" },
                },
                ["loggers"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["name"] = Daemon,
                        ["output_options"] = new JsonArray { new JsonObject { ["output"] = "stdout" } },
                        ["severity"] = "INFO",
                    },
                },
            },
        };
        Dhcp.KeaDocuments.Confine(root, this, layout, record);
        return Dhcp.KeaDocuments.Write(root);
    }

    private static string FindHooks()
    {
        var arch = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.Arm64 => "aarch64-linux-gnu",
            _ => "x86_64-linux-gnu",
        };
        string[] candidates = [$"/usr/lib/{arch}/kea/hooks", "/usr/lib/kea/hooks", "/usr/lib64/kea/hooks", "/usr/local/lib/kea/hooks"];
        return candidates.FirstOrDefault(Directory.Exists) ?? candidates[0];
    }
}
