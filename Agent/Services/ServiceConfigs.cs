using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ManagedServers.Agent.Runtime;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Services;

/// <summary>
/// Where a service lives on the host: <c>STATE_DIR/services/KIND/</c> with <c>conf/</c> (generated configuration),
/// <c>data/</c> (zone storage, lease files: kept by <c>service.remove</c>), <c>run/</c> (control socket, pid files)
/// and <c>log/</c> (exec runtime output). The same absolute paths are used inside a container.
/// </summary>
internal sealed record ServiceLayout(string Kind, string Directory)
{
    public string ConfDirectory => Path.Combine(Directory, "conf");

    public string DataDirectory => Path.Combine(Directory, "data");

    public string RunDirectory => Path.Combine(Directory, "run");

    public string LogDirectory => Path.Combine(Directory, "log");

    public string ConfigFile => Path.Combine(ConfDirectory, Kind == ServiceKinds.Dns ? "knot.conf" : $"kea-{Kind}.conf");

    /// <summary>Knot's control socket (<c>knotc -s</c>) or Kea's control socket (unix, JSON commands).</summary>
    public string ControlSocket => Path.Combine(RunDirectory, Kind == ServiceKinds.Dns ? "knot.sock" : $"kea-{Kind}.sock");

    public static ServiceLayout For(string servicesRoot, string kind) => new(kind, Path.Combine(servicesRoot, kind));

    public void CreateDirectories()
    {
        StateDirectory.CreatePrivate(Directory);
        foreach (var dir in new[] { ConfDirectory, DataDirectory, RunDirectory, LogDirectory })
        {
            StateDirectory.CreatePrivate(dir);
        }
    }
}

/// <summary>Generates each service's configuration and command line (identical for both runtimes).</summary>
internal static class ServiceConfigs
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    /// <summary>Kea's hook libraries, the same path on the host and in the image (Debian multiarch).</summary>
    public static string KeaHooksDirectory { get; } = FindKeaHooks();

    /// <summary>The DNS listen addresses: the configured one, or all IPv4 and IPv6 addresses.</summary>
    public static IReadOnlyList<string> DnsListen(string? address, int? port) => Contracts.Agent.DnsListen.FromAddressAndPort(address, port);

    /// <summary>The DNS listen entries of an installed service: its <see cref="InstalledService.Listen"/> list, else address and port.</summary>
    public static IReadOnlyList<string> DnsListen(InstalledService record) =>
        record.Listen is { Count: > 0 } listen ? listen : DnsListen(record.ListenAddress, record.Port);

    /// <summary>
    /// What knot.conf listens on: the service's own listen entries when it has some (set by the install that named
    /// them and by every <c>dns.apply</c> that changed them), else the last applied spec's, else the install's address
    /// and port (services installed before entries were recorded).
    /// </summary>
    public static IReadOnlyList<string> DnsEffectiveListen(ServiceLayout layout, InstalledService record) =>
        record.Listen is { Count: > 0 } listen ? listen
        : Dns.DnsAppliedStore.Read(layout) is { } applied ? Dns.KnotConf.EffectiveListen(applied.Spec, DnsListen(record))
        : DnsListen(record);

    /// <summary>Where to probe a DNS listen entry: its address and port, loopback when it is a wildcard address.</summary>
    public static IPEndPoint DnsProbeEndpoint(string listen)
    {
        var endpoint = Dns.KnotConf.ParseListen(listen);
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

    /// <summary>
    /// Writes the configuration of the service into <paramref name="layout"/> and returns how to run it. DNS: knot.conf
    /// rendered by <see cref="Dns.KnotConf"/> from the last applied spec (none yet: no zones), listening where
    /// <see cref="DnsEffectiveListen"/> says; <paramref name="dnstapAvailable"/>: whether its knotd has mod-dnstap.
    /// </summary>
    public static ServiceSpec Write(ServiceLayout layout, InstalledService record, bool dnstapAvailable)
    {
        layout.CreateDirectories();
        var text = record.Kind switch
        {
            ServiceKinds.Dns => RenderKnotConf(layout, record, dnstapAvailable),
            ServiceKinds.Dhcp4 or ServiceKinds.Dhcp6 => KeaConfig(layout, record.Kind),
            _ => throw new ServiceRuntimeException($"unknown service kind '{record.Kind}'"),
        };
        AtomicFile.WriteAllText(layout.ConfigFile, text, AtomicFile.OwnerOnly);
        return SpecOf(layout, record.Kind, record.Version);
    }

    /// <summary>knot.conf of the last applied spec (none yet: no zones), listening where <see cref="DnsEffectiveListen"/> says.</summary>
    private static string RenderKnotConf(ServiceLayout layout, InstalledService record, bool dnstapAvailable)
    {
        var listen = DnsEffectiveListen(layout, record);
        var spec = Dns.DnsAppliedStore.Read(layout)?.Spec ?? new DnsConfigSpec([], []);
        return Dns.KnotConf.Render(spec with { Listen = listen }, layout, listen, dnstapAvailable);
    }

    /// <summary>How to run an installed service (its configuration already written).</summary>
    public static ServiceSpec SpecOf(ServiceLayout layout, string kind, string version)
    {
        var daemon = ExecRuntime.DaemonOf(kind);
        if (kind == ServiceKinds.Dns)
        {
            return new ServiceSpec(kind, version, layout.Directory, [daemon, "-c", layout.ConfigFile], ["knotc", "-c", layout.ConfigFile, "conf-check"], new Dictionary<string, string>());
        }

        // Kea writes its pid file and log lock file to these; the defaults (/run/kea) would clash between instances.
        var environment = new Dictionary<string, string>
        {
            ["KEA_PIDFILE_DIR"] = layout.RunDirectory,
            ["KEA_LOCKFILE_DIR"] = layout.RunDirectory,
        };
        return new ServiceSpec(kind, version, layout.Directory, [daemon, "-c", layout.ConfigFile], [daemon, "-t", layout.ConfigFile], environment);
    }

    internal static string KeaConfig(ServiceLayout layout, string kind)
    {
        var v4 = kind == ServiceKinds.Dhcp4;
        var daemon = ExecRuntime.DaemonOf(kind);
        var root = new JsonObject
        {
            [v4 ? "Dhcp4" : "Dhcp6"] = new JsonObject
            {
                ["interfaces-config"] = new JsonObject { ["interfaces"] = new JsonArray() },
                ["control-socket"] = new JsonObject { ["socket-type"] = "unix", ["socket-name"] = layout.ControlSocket },
                ["lease-database"] = new JsonObject
                {
                    ["type"] = "memfile",
                    ["persist"] = true,
                    ["name"] = Path.Combine(layout.DataDirectory, v4 ? "kea-leases4.csv" : "kea-leases6.csv"),
                    ["lfc-interval"] = 3600,
                },
                ["hooks-libraries"] = new JsonArray
                {
                    new JsonObject { ["library"] = Path.Combine(KeaHooksDirectory, "libdhcp_lease_cmds.so") },
                    new JsonObject { ["library"] = Path.Combine(KeaHooksDirectory, "libdhcp_stat_cmds.so") },
                },
                ["loggers"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["name"] = daemon,
                        ["output_options"] = new JsonArray { new JsonObject { ["output"] = "stdout" } },
                        ["severity"] = "INFO",
                    },
                },
            },
        };
        if (!v4)
        {
            // The server DUID file goes here (default /var/lib/kea, which need not exist or be writable).
            root["Dhcp6"]!.AsObject().Insert(0, "data-directory", layout.DataDirectory);
        }

        return root.ToJsonString(IndentedJson) + "\n";
    }

    private static string FindKeaHooks()
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
