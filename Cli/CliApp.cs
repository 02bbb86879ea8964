using System.Net;
using System.Reflection;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands;
using ManagedServers.Cli.Commands.Dhcp;
using ManagedServers.Cli.Commands.Dns;
using ManagedServers.Cli.Commands.Jobs;
using ManagedServers.Cli.Commands.Monitor;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Commands.Services;
using ManagedServers.Cli.Commands.Settings;
using ManagedServers.Cli.Commands.Tokens;
using ManagedServers.Cli.Commands.Zones;
using Spectre.Console.Cli;

namespace ManagedServers.Cli;

/// <summary>Builds the msctl command tree and turns every failure into one line on stderr and an exit code.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliHost host, CancellationToken cancellationToken = default)
    {
        var debug = args.Contains("--debug") || host.GetEnv("MANAGEDSERVERS_DEBUG") is "1" or "true";
        try
        {
            return await Create(host).RunAsync(NormalizeArgs(args), cancellationToken);
        }
        catch (Exception ex)
        {
            return ReportError(ex, host, debug);
        }
    }

    /// <summary>
    /// Adapts a few spellings Spectre.Console.Cli cannot parse: it rejects one-letter long options, but the API's
    /// search parameter is "q", so "--q TEXT" / "--q=TEXT" mean "--query"; and it reads "-name" in "--sort -name"
    /// as an option, so a --sort value starting with '-' is joined as "--sort=-name".
    /// </summary>
    internal static string[] NormalizeArgs(IReadOnlyList<string> args)
    {
        var result = new List<string>(args.Count);
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--") // everything after "--" is passed through untouched
            {
                result.AddRange(args.Skip(i));
                break;
            }

            if (a == "--q")
            {
                a = "--query";
            }
            else if (a.StartsWith("--q=", StringComparison.Ordinal))
            {
                a = "--query=" + a[4..];
            }

            if (a == "--sort" && i + 1 < args.Count && args[i + 1].StartsWith('-') && args[i + 1] != "--")
            {
                a = "--sort=" + args[++i];
            }

            result.Add(a);
        }

        return [.. result];
    }

    public static CommandApp Create(CliHost host)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("msctl");
            config.SetApplicationVersion(Version);
            config.ConfigureConsole(host.Console);
            config.PropagateExceptions();
            config.UseStrictParsing();
            config.CancellationExitCode(ExitCodes.Cancelled);
            config.Settings.Registrar.RegisterInstance(host);

            config.AddCommand<LoginCommand>("login")
                .WithDescription("Log in to a control plane and save the URL and an API token for later commands.")
                .WithExample("login", "--url", "https://cp.example.org", "--user", "admin")
                .WithExample("login", "--url", "https://cp.example.org", "--token", "TOKEN");
            config.AddCommand<LogoutCommand>("logout")
                .WithDescription("Forget the saved login: revokes the token 'msctl login' made and deletes the config file.")
                .WithExample("logout");

            config.AddBranch("servers", servers =>
            {
                servers.SetDescription("Manage the DNS/DHCP servers of the fleet.");
                servers.AddCommand<ListServersCommand>("list")
                    .WithAlias("ls")
                    .WithDescription("List servers with their state, last heartbeat and component versions.")
                    .WithExample("servers", "list")
                    .WithExample("servers", "list", "--query", "dns", "--sort=-last_heartbeat")
                    .WithExample("servers", "list", "--page", "2", "--per-page", "50", "-o", "json");
                servers.AddCommand<AddServerCommand>("add")
                    .WithDescription("Register a new server. Then fetch its setup bundle with 'msctl servers bundle NAME'.")
                    .WithExample("servers", "add", "dns-01", "--kind", "dns")
                    .WithExample("servers", "add", "dhcp-01", "--kind", "dhcp", "--address", "10.0.0.12", "--runtime", "exec", "--communication", "pull");
                servers.AddCommand<ShowServerCommand>("show")
                    .WithDescription("Show the details of one server, by id or by name.")
                    .WithExample("servers", "show", "dns-01")
                    .WithExample("servers", "show", "dns-01", "-o", "json");
                servers.AddCommand<DeleteServerCommand>("delete")
                    .WithAlias("rm")
                    .WithDescription("Delete a server. Asks for confirmation unless --yes (required when stdin is not a terminal).")
                    .WithExample("servers", "delete", "dns-01")
                    .WithExample("servers", "delete", "dns-01", "--yes");
                servers.AddCommand<BundleServerCommand>("bundle")
                    .WithDescription("Download the setup bundle used to enroll the server's agent (contains a secret; saved with mode 0600).")
                    .WithExample("servers", "bundle", "dns-01")
                    .WithExample("servers", "bundle", "dns-01", "-f", "/tmp/dns-01.bundle.json");
                servers.AddCommand<PingServerCommand>("ping")
                    .WithDescription("Ask a server's agent to answer and show the round trip time.")
                    .WithExample("servers", "ping", "dns-01");
                servers.AddCommand<ServerEventsCommand>("events")
                    .WithDescription("What happened to the server's agent identity: enrolments, renewals, revocations, refused (possibly cloned) certificates.")
                    .WithExample("servers", "events", "dns-01");
                servers.AddCommand<RevokeCertificateCommand>("revoke-cert")
                    .WithDescription("Revoke the agent's certificates (and its broker user) without deleting the server; the agent must enrol again.")
                    .WithExample("servers", "revoke-cert", "dns-01", "--yes");
                servers.AddCommand<DiagnoseServerCommand>("diagnose")
                    .WithDescription("Run the agent's checks (services answering, disk, clock, certificate, control plane, broker, Docker); exit 1 if one fails.")
                    .WithExample("servers", "diagnose", "dns-01")
                    .WithExample("servers", "diagnose", "dns-01", "-o", "json");
                servers.AddCommand<DebugBundleCommand>("debug-bundle")
                    .WithDescription("Download a tar.gz from the agent: bounded logs, configs with secrets redacted, versions, the last diagnostics.")
                    .WithExample("servers", "debug-bundle", "dns-01")
                    .WithExample("servers", "debug-bundle", "dns-01", "-f", "/tmp/dns-01.tar.gz");
                servers.AddCommand<ServerZonesCommand>("zones")
                    .WithDescription("The zones assigned to a DNS server, live serial against current; --add/--remove assign or unassign the zones given, --set assigns exactly those.")
                    .WithExample("servers", "zones", "dns-01")
                    .WithExample("servers", "zones", "dns-01", "--add", "example.test")
                    .WithExample("servers", "zones", "dns-01", "--remove", "old.example.test")
                    .WithExample("servers", "zones", "dns-01", "--set", "example.test,example.org");
                servers.AddCommand<PushZonesCommand>("push-zones")
                    .WithDescription("Send the zones changed since the server's last applied version (--full: all): validated, switched atomically, health-checked, rolled back on failure. A zone knotd would not load is named and the others apply (--all-or-nothing: none).")
                    .WithExample("servers", "push-zones", "dns-01")
                    .WithExample("servers", "push-zones", "dns-01", "--full")
                    .WithExample("servers", "push-zones", "dns-01", "--all-or-nothing");
                servers.AddCommand<PushConfigCommand>("push-config")
                    .WithDescription("Apply the server's configuration as a new numbered version: DNS (zones assigned, listen entries, monitoring modules) or DHCP (reviewed first; --family, --acknowledge-warnings).")
                    .WithExample("servers", "push-config", "dns-01")
                    .WithExample("servers", "push-config", "dhcp-01", "--acknowledge-warnings");
                servers.AddCommand<ConfigVersionsCommand>("config-versions")
                    .WithDescription("The DNS configuration versions a server applied, newest first.")
                    .WithExample("servers", "config-versions", "dns-01");
                servers.AddCommand<ConfigDiffCommand>("config-diff")
                    .WithDescription("What changed in knot.conf between two versions (default: the one before).")
                    .WithExample("servers", "config-diff", "dns-01", "4")
                    .WithExample("servers", "config-diff", "dns-01", "4", "--from", "1");
                servers.AddCommand<ConfigRevertCommand>("config-revert")
                    .WithDescription("Re-apply an earlier configuration version (a job); its zones and listen entries become the server's again.")
                    .WithExample("servers", "config-revert", "dns-01", "3");
            });

            config.AddBranch("dhcp", dhcp =>
            {
                dhcp.SetDescription("A DHCP server's Kea configuration: import, review, what a push sends.");
                dhcp.AddCommand<DhcpImportCommand>("import")
                    .WithDescription("Import a whole Kea configuration file as the server's (what the model covers becomes objects, the rest is kept verbatim); prints what was made and the review.")
                    .WithExample("dhcp", "import", "dhcp-01", "/etc/kea/kea-dhcp4.conf");
                dhcp.AddCommand<DhcpReviewCommand>("review")
                    .WithDescription("The review of the server's configuration: errors refuse a push, warnings need --acknowledge-warnings.")
                    .WithExample("dhcp", "review", "dhcp-01")
                    .WithExample("dhcp", "review", "dhcp-01", "--family", "6");
                dhcp.AddCommand<DhcpRenderedCommand>("rendered")
                    .WithDescription("The Kea document a push would send now, byte for byte.")
                    .WithExample("dhcp", "rendered", "dhcp-01");
                dhcp.AddCommand<DhcpPushCommand>("push")
                    .WithDescription("Push the DHCP configuration to servers and their HA partners as one operation (pairs one peer at a time, standby first, the partner in charge meanwhile); a result per server.")
                    .WithExample("dhcp", "push", "dhcp-01", "dhcp-02")
                    .WithExample("dhcp", "push", "dhcp-01", "--family", "6", "--acknowledge-warnings");
                dhcp.AddCommand<DhcpLeasesCommand>("leases")
                    .WithDescription("The leases Kea holds now (a page in address order), or one client's with --search (address, MAC, client-id, DUID, host name).")
                    .WithExample("dhcp", "leases", "dhcp-01")
                    .WithExample("dhcp", "leases", "dhcp-01", "--search", "1a:1b:1c:1d:1e:1f");
                dhcp.AddCommand<DhcpLeaseDeleteCommand>("lease-delete")
                    .WithDescription("Delete one lease (asks first): Kea forgets it and gives the client an address anew when it next asks.")
                    .WithExample("dhcp", "lease-delete", "dhcp-01", "192.0.2.57");
                dhcp.AddBranch("subnets", subnets =>
                {
                    subnets.SetDescription("Subnets of DHCP servers' configurations, one at a time.");
                    subnets.AddCommand<DhcpSubnetsCommand>("list").WithAlias("ls")
                        .WithDescription("The subnets of a server's configuration: id, prefix, pools, reservations, options.")
                        .WithExample("dhcp", "subnets", "list", "dhcp-01");
                    subnets.AddCommand<DhcpSubnetAddCommand>("add")
                        .WithDescription("Add a subnet to the configuration of each server given (each is checked before any changes).")
                        .WithExample("dhcp", "subnets", "add", "--id", "1", "--subnet", "192.0.2.0/24", "--pool", "192.0.2.10-192.0.2.200", "--option", "routers=192.0.2.1", "-s", "dhcp-01", "-s", "dhcp-02");
                    subnets.AddCommand<DhcpSubnetDeleteCommand>("delete").WithAlias("rm")
                        .WithDescription("Remove a subnet with its pools and reservations (asks first).")
                        .WithExample("dhcp", "subnets", "delete", "1", "-s", "dhcp-01");
                });
                dhcp.AddBranch("shared-networks", networks =>
                {
                    networks.SetDescription("Shared networks: several subnets on one link.");
                    networks.AddCommand<DhcpSharedNetworksCommand>("list").WithAlias("ls").WithDescription("List a server's shared networks.")
                        .WithExample("dhcp", "shared-networks", "list", "dhcp-01");
                    networks.AddCommand<DhcpSharedNetworkAddCommand>("add").WithDescription("Put subnets on one link as a shared network.")
                        .WithExample("dhcp", "shared-networks", "add", "campus", "--subnet", "1", "--subnet", "2", "--interface", "eth0", "-s", "dhcp-01");
                    networks.AddCommand<DhcpSharedNetworkDeleteCommand>("delete").WithAlias("rm").WithDescription("Remove a shared network (its subnets stay).")
                        .WithExample("dhcp", "shared-networks", "delete", "campus", "-s", "dhcp-01");
                });
                dhcp.AddBranch("classes", classes =>
                {
                    classes.SetDescription("Client classes: which clients get which pools and options.");
                    classes.AddCommand<DhcpClientClassesCommand>("list").WithAlias("ls").WithDescription("List a server's client classes.")
                        .WithExample("dhcp", "classes", "list", "dhcp-01");
                    classes.AddCommand<DhcpClientClassAddCommand>("add").WithDescription("Add a client class with Kea's test expression.")
                        .WithExample("dhcp", "classes", "add", "printers", "--test", "substring(option[60].hex,0,7) == 'printer'", "-s", "dhcp-01");
                    classes.AddCommand<DhcpClientClassDeleteCommand>("delete").WithAlias("rm").WithDescription("Remove a client class nothing names.")
                        .WithExample("dhcp", "classes", "delete", "printers", "-s", "dhcp-01");
                });
                dhcp.AddBranch("pools", pools =>
                {
                    pools.SetDescription("Address pools of a subnet.");
                    pools.AddCommand<DhcpPoolAddCommand>("add").WithDescription("Add a pool to a subnet.")
                        .WithExample("dhcp", "pools", "add", "1", "192.0.2.210-192.0.2.250", "-s", "dhcp-01");
                    pools.AddCommand<DhcpPoolDeleteCommand>("delete").WithAlias("rm").WithDescription("Remove a pool from a subnet.")
                        .WithExample("dhcp", "pools", "delete", "1", "192.0.2.210-192.0.2.250", "-s", "dhcp-01");
                });
                dhcp.AddBranch("reservations", reservations =>
                {
                    reservations.SetDescription("Host reservations of a subnet.");
                    reservations.AddCommand<DhcpReservationAddCommand>("add")
                        .WithDescription("Reserve an address (and a host name) for a client; the same client's reservation is replaced.")
                        .WithExample("dhcp", "reservations", "add", "1", "--hw-address", "1a:1b:1c:1d:1e:1f", "--ip", "192.0.2.5", "--hostname", "printer", "-s", "dhcp-01");
                    reservations.AddCommand<DhcpReservationDeleteCommand>("delete").WithAlias("rm")
                        .WithDescription("Remove a client's reservation (asks first).")
                        .WithExample("dhcp", "reservations", "delete", "1", "--hw-address", "1a:1b:1c:1d:1e:1f", "-s", "dhcp-01");
                });
            });

            config.AddBranch("services", services =>
            {
                services.SetDescription("Install, update, start, stop, restart and remove a server's DNS/DHCP services (each a job).");
                services.AddCommand<ListServicesCommand>("list")
                    .WithAlias("ls")
                    .WithDescription("A server's services: state, since, restarts after crashes, version, runtime.")
                    .WithExample("services", "list", "dns-01");
                services.AddCommand<AddServiceCommand>("add")
                    .WithDescription("Install a service and start it; for an installed one, update it to --version (rolled back if it fails).")
                    .WithExample("services", "add", "dns-01", "dns")
                    .WithExample("services", "add", "dhcp-01", "dhcp4", "--version", "2.2.0-ms1")
                    .WithExample("services", "add", "dns-01", "dns", "--listen", "127.0.0.1", "--port", "5353", "--no-wait");
                services.AddCommand<StartServiceCommand>("start").WithDescription("Start a stopped service.").WithExample("services", "start", "dns-01", "dns");
                services.AddCommand<StopServiceCommand>("stop").WithDescription("Stop a service; the agent keeps it stopped.").WithExample("services", "stop", "dns-01", "dns");
                services.AddCommand<RestartServiceCommand>("restart").WithDescription("Restart a service.").WithExample("services", "restart", "dns-01", "dns");
                services.AddCommand<RemoveServiceCommand>("remove")
                    .WithAlias("rm")
                    .WithDescription("Stop and remove a service (its data directory stays on the host).")
                    .WithExample("services", "remove", "dhcp-01", "dhcp6");
            });

            config.AddBranch("jobs", jobs =>
            {
                jobs.SetDescription("Follow long actions: service changes, diagnostics, debug bundles.");
                jobs.AddCommand<ListJobsCommand>("list")
                    .WithAlias("ls")
                    .WithDescription("The fleet's active jobs, or one server's history with --server.")
                    .WithExample("jobs", "list")
                    .WithExample("jobs", "list", "--server", "dns-01", "--state", "failed");
                jobs.AddCommand<ShowJobCommand>("show")
                    .WithDescription("One job with its step log; --wait follows it to the end.")
                    .WithExample("jobs", "show", "srv-0123456789abcdef-job-3", "--wait");
                jobs.AddCommand<ShowOperationCommand>("operation")
                    .WithDescription("An operation over several servers (msctl dhcp push): its steps and each server's result; --wait follows it.")
                    .WithExample("jobs", "operation", "op-0123456789abcdef0123", "--wait");
            });

            config.AddBranch("monitor", monitor =>
            {
                monitor.SetDescription("Look at what the agents measure.");
                monitor.AddCommand<MonitorSystemCommand>("system")
                    .WithDescription("System metrics of one server (CPU, memory, disks, TCP, uptime) over a window up to now: now/min/avg/max and trend lines.")
                    .WithExample("monitor", "system", "dns-01")
                    .WithExample("monitor", "system", "dns-01", "--since", "6h")
                    .WithExample("monitor", "system", "dns-01", "--since", "30d", "--metric", "disk.*")
                    .WithExample("monitor", "system", "dns-01", "--since", "15m", "-o", "json");
            });

            config.AddBranch("dns", dns =>
            {
                dns.SetDescription("What DNS servers answer.");
                dns.AddCommand<ManagedServers.Cli.Commands.Dns.DnsTopCommand>("top")
                    .WithDescription("The names a DNS server answered most over a window (dnstap hit counts), with their last access.")
                    .WithExample("dns", "top", "dns-01")
                    .WithExample("dns", "top", "dns-01", "--zone", "example.com", "-n", "50", "--since", "6h")
                    .WithExample("dns", "top", "dns-01", "-o", "json");
            });

            config.AddBranch("settings", settings =>
            {
                settings.SetDescription("Show and change control-plane settings.");
                settings.AddBranch("monitoring", monitoring =>
                {
                    monitoring.SetDescription("Monitoring: heartbeats, enrolment, what agents collect and how long it is kept.");
                    monitoring.AddCommand<ShowMonitoringSettingsCommand>("show")
                        .WithDescription("Show the monitoring settings.")
                        .WithExample("settings", "monitoring", "show")
                        .WithExample("settings", "monitoring", "show", "-o", "json");
                    monitoring.AddCommand<SetMonitoringSettingsCommand>("set")
                        .WithDescription("Change monitoring settings; options left out keep their values.")
                        .WithExample("settings", "monitoring", "set", "--system-interval", "10", "--raw-retention-minutes", "720")
                        .WithExample("settings", "monitoring", "set", "--communication", "pull", "--no-dns-monitoring");
                });
                settings.AddBranch("rabbitmq", rabbitmq =>
                {
                    rabbitmq.SetDescription("RabbitMQ: where the control plane and AMQP agents reach the broker.");
                    rabbitmq.AddCommand<ShowRabbitMqCommand>("show")
                        .WithDescription("Show the RabbitMQ settings (never the password: only whether one is set).")
                        .WithExample("settings", "rabbitmq", "show", "-o", "json");
                    rabbitmq.AddCommand<SetRabbitMqCommand>("set")
                        .WithDescription("Change RabbitMQ settings; options left out keep their values. The password comes from stdin only.")
                        .WithExample("settings", "rabbitmq", "set", "--host", "mq.example.org", "--user", "managedservers", "--password-stdin")
                        .WithExample("settings", "rabbitmq", "set", "--default-communication", "amqp");
                    rabbitmq.AddCommand<TestRabbitMqCommand>("test")
                        .WithDescription("Connect to RabbitMQ with the stored settings (options override them for this test only); exit 1 on failure.")
                        .WithExample("settings", "rabbitmq", "test")
                        .WithExample("settings", "rabbitmq", "test", "--user", "other", "--password-stdin");
                });
            });

            config.AddBranch("zones", zones =>
            {
                zones.SetDescription("DNS zones: import and export zone files, edit records.");
                zones.AddCommand<ListZonesCommand>("list").WithAlias("ls").WithDescription("List zones.").WithExample("zones", "list", "--sort", "records");
                zones.AddCommand<ShowZoneCommand>("show").WithDescription("One zone: serial, records, size, SHA-256.").WithExample("zones", "show", "example.com");
                zones.AddCommand<ImportZoneCommand>("import")
                    .WithDescription("Import an RFC 1035 zone file (name from --name, its $ORIGIN or the file name); --replace replaces an existing zone's content.")
                    .WithExample("zones", "import", "example.com.zone")
                    .WithExample("zones", "import", "db.example", "--name", "example.com", "--replace");
                zones.AddCommand<ExportZoneCommand>("export").WithDescription("Print the zone file, or write it with -f.").WithExample("zones", "export", "example.com", "-f", "example.com.zone");
                zones.AddCommand<DeleteZoneCommand>("delete").WithDescription("Delete a zone.").WithExample("zones", "delete", "example.com", "--yes");
                zones.AddBranch("records", records =>
                {
                    records.SetDescription("A zone's records.");
                    records.AddCommand<ListRecordsCommand>("list").WithAlias("ls").WithDescription("List records (with ids).").WithExample("zones", "records", "list", "example.com", "--type", "A");
                    records.AddCommand<AddRecordCommand>("add").WithDescription("Add one record; the serial is bumped.").WithExample("zones", "records", "add", "example.com", "www", "A", "192.0.2.1", "--ttl", "300");
                    records.AddCommand<DeleteRecordCommand>("delete").WithDescription("Delete one record by id; the serial is bumped.").WithExample("zones", "records", "delete", "example.com", "RECORD_ID");
                });
            });

            config.AddBranch("ca", ca =>
            {
                ca.SetDescription("The built-in certificate authority that signs agent certificates.");
                ca.AddCommand<ManagedServers.Cli.Commands.Ca.ShowCaCommand>("show")
                    .WithDescription("The CA in force, a rotation under way, and how many agents hold certificates of each CA.")
                    .WithExample("ca", "show");
                ca.AddCommand<ManagedServers.Cli.Commands.Ca.RotateCaCommand>("rotate")
                    .WithDescription("Start a CA rotation (agents move to the new CA at their next renewal); --finish ends it once they have.")
                    .WithExample("ca", "rotate")
                    .WithExample("ca", "rotate", "--finish")
                    .WithExample("ca", "rotate", "--finish", "--force");
            });

            config.AddBranch("tokens", tokens =>
            {
                tokens.SetDescription("Manage your API tokens.");
                tokens.AddCommand<CreateTokenCommand>("create")
                    .WithDescription("Create an API token (for scripts and CI); it is shown only once.")
                    .WithExample("tokens", "create", "--name", "ci", "--expires", "30d")
                    .WithExample("tokens", "create", "--name", "monitoring", "--expires", "never");
                tokens.AddCommand<ListTokensCommand>("list")
                    .WithAlias("ls")
                    .WithDescription("List your API tokens (never their secrets).")
                    .WithExample("tokens", "list");
                tokens.AddCommand<RevokeTokenCommand>("revoke")
                    .WithDescription("Revoke an API token by id.")
                    .WithExample("tokens", "revoke", "TOKEN_ID");
            });
        });
        return app;
    }

    /// <summary>Writes one "error: ..." line (plus the stack trace with --debug) and returns the exit code.</summary>
    internal static int ReportError(Exception ex, CliHost host, bool debug)
    {
        var (message, code) = ex switch
        {
            ApiException { Status: HttpStatusCode.Unauthorized } unauthorized => (UnauthorizedLine(unauthorized.Detail), ExitCodes.Error),
            ApiException api => (api.Message, ExitCodes.Error),
            ApiUnreachableException unreachable => (unreachable.Message, ExitCodes.Unreachable),
            CliException cli => (cli.Message, cli.ExitCode),
            CommandAppException app => (app.Message, ExitCodes.Usage),
            OperationCanceledException => ("cancelled", ExitCodes.Cancelled),
            _ => ($"{ex.Message}{(debug ? "" : " (run with --debug for details)")}", ExitCodes.Error),
        };
        host.Error.WriteLine($"error: {ApiException.OneLine(message)}");
        if (debug)
        {
            host.Error.WriteLine(ex.ToString());
        }

        host.Error.Flush();
        return code;
    }

    /// <summary>A 401 in one line: the control plane's reason (expired, not valid, no credentials), pointing at msctl login.</summary>
    private static string UnauthorizedLine(string? detail) =>
        string.IsNullOrWhiteSpace(detail) || detail.StartsWith("no credentials", StringComparison.Ordinal) ? "not authenticated (run 'msctl login')"
        : detail.Contains("msctl login", StringComparison.Ordinal) ? $"not authenticated: {detail.Replace("'msctl login'", "msctl login", StringComparison.Ordinal)}"
        : $"not authenticated: {detail} (run 'msctl login')";

    private static string Version =>
        typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
