using System.ComponentModel;
using System.Globalization;
using System.Net;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Settings;

/// <summary>Options of <c>settings monitoring set</c>: one per field; each one left out keeps the stored value.</summary>
internal sealed class MonitoringSettingsOptions : OutputSettings
{
    /// <summary>API field name → the option that sets it, for error messages.</summary>
    public static readonly IReadOnlyDictionary<string, string> OptionOf = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["monitoring_api_ip"] = "--monitoring-api-ip",
        ["heartbeat_interval_seconds"] = "--heartbeat-interval",
        ["heartbeat_missed_limit"] = "--heartbeat-missed-limit",
        ["enrollment_token_hours"] = "--enrollment-token-hours",
        ["certificate_days"] = "--certificate-days",
        ["verify_ca"] = "--verify-ca",
        ["communication"] = "--communication",
        ["system_monitoring"] = "--system-monitoring",
        ["system_interval_seconds"] = "--system-interval",
        ["dns_monitoring"] = "--dns-monitoring",
        ["dns_interval_seconds"] = "--dns-interval",
        ["dhcp_monitoring"] = "--dhcp-monitoring",
        ["dhcp_interval_seconds"] = "--dhcp-interval",
        ["dhcp_utilisation_warning"] = "--dhcp-warning",
        ["dhcp_utilisation_critical"] = "--dhcp-critical",
        ["raw_retention_minutes"] = "--raw-retention-minutes",
        ["aggregate_retention_days"] = "--aggregate-retention-days",
    };

    [CommandOption("--monitoring-api-ip <IP>")]
    [Description("Default control plane address agents report to")]
    public string? MonitoringApiIp { get; init; }

    [CommandOption("--heartbeat-interval <SECONDS>")]
    [Description("Seconds between agent heartbeats (1–3600)")]
    public int? HeartbeatIntervalSeconds { get; init; }

    [CommandOption("--heartbeat-missed-limit <N>")]
    [Description("Missed heartbeats after which a server is unreachable (2–100)")]
    public int? HeartbeatMissedLimit { get; init; }

    [CommandOption("--enrollment-token-hours <HOURS>")]
    [Description("Validity of the enrolment token in a setup bundle")]
    public int? EnrollmentTokenHours { get; init; }

    [CommandOption("--certificate-days <DAYS>")]
    [Description("Validity of agent client certificates (1–90)")]
    public int? CertificateDays { get; init; }

    [CommandOption("--verify-ca")]
    [Description("Agents verify the control plane's certificate against the CA")]
    public bool VerifyCa { get; init; }

    [CommandOption("--no-verify-ca")]
    [Description("Agents do not verify the control plane's certificate")]
    public bool NoVerifyCa { get; init; }

    [CommandOption("--communication <MODE>")]
    [Description("Default monitoring data flow: [green]push[/] or [green]pull[/]")]
    public string? Communication { get; init; }

    [CommandOption("--system-monitoring")]
    [Description("Collect system metrics (CPU, memory, disks, sockets)")]
    public bool SystemMonitoring { get; init; }

    [CommandOption("--no-system-monitoring")]
    [Description("Stop collecting system metrics")]
    public bool NoSystemMonitoring { get; init; }

    [CommandOption("--system-interval <SECONDS>")]
    [Description("Seconds between system samples (1–3600)")]
    public int? SystemIntervalSeconds { get; init; }

    [CommandOption("--dns-monitoring")]
    [Description("Collect DNS server metrics")]
    public bool DnsMonitoring { get; init; }

    [CommandOption("--no-dns-monitoring")]
    [Description("Stop collecting DNS server metrics")]
    public bool NoDnsMonitoring { get; init; }

    [CommandOption("--dns-interval <SECONDS>")]
    [Description("Seconds between DNS samples (1–3600)")]
    public int? DnsIntervalSeconds { get; init; }

    [CommandOption("--dhcp-monitoring")]
    [Description("Collect DHCP statistics (per-subnet utilisation, packet counters)")]
    public bool DhcpMonitoring { get; init; }

    [CommandOption("--no-dhcp-monitoring")]
    [Description("Stop collecting DHCP statistics")]
    public bool NoDhcpMonitoring { get; init; }

    [CommandOption("--dhcp-interval <SECONDS>")]
    [Description("Seconds between DHCP statistics (1–3600)")]
    public int? DhcpIntervalSeconds { get; init; }

    [CommandOption("--dhcp-warning <PERCENT>")]
    [Description("Subnet utilisation that is a warning (default 80)")]
    public int? DhcpUtilisationWarning { get; init; }

    [CommandOption("--dhcp-critical <PERCENT>")]
    [Description("Subnet utilisation that is critical (default 90)")]
    public int? DhcpUtilisationCritical { get; init; }

    [CommandOption("--raw-retention-minutes <MINUTES>")]
    [Description("How long raw samples are kept")]
    public int? RawRetentionMinutes { get; init; }

    [CommandOption("--aggregate-retention-days <DAYS>")]
    [Description("How long hour aggregates are kept (minute aggregates: at most 7 days, or this if shorter)")]
    public int? AggregateRetentionDays { get; init; }

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } invalid ? invalid
        : VerifyCa && NoVerifyCa ? ValidationResult.Error("use either --verify-ca or --no-verify-ca")
        : SystemMonitoring && NoSystemMonitoring ? ValidationResult.Error("use either --system-monitoring or --no-system-monitoring")
        : DnsMonitoring && NoDnsMonitoring ? ValidationResult.Error("use either --dns-monitoring or --no-dns-monitoring")
        : DhcpMonitoring && NoDhcpMonitoring ? ValidationResult.Error("use either --dhcp-monitoring or --no-dhcp-monitoring")
        : ValidationResult.Success();

    /// <summary>The update these options describe; null when none was given.</summary>
    public MonitoringSettingsUpdate? ToUpdate()
    {
        var update = new MonitoringSettingsUpdate(
            MonitoringApiIp,
            HeartbeatIntervalSeconds,
            HeartbeatMissedLimit,
            EnrollmentTokenHours,
            CertificateDays,
            Flag(VerifyCa, NoVerifyCa),
            Communication,
            Flag(SystemMonitoring, NoSystemMonitoring),
            SystemIntervalSeconds,
            Flag(DnsMonitoring, NoDnsMonitoring),
            DnsIntervalSeconds,
            RawRetentionMinutes,
            AggregateRetentionDays,
            Flag(DhcpMonitoring, NoDhcpMonitoring),
            DhcpIntervalSeconds,
            DhcpUtilisationWarning,
            DhcpUtilisationCritical);
        return update == new MonitoringSettingsUpdate() ? null : update;
    }

    private static bool? Flag(bool on, bool off) => on ? true : off ? false : null;
}

/// <summary>Renders the monitoring settings as a grid.</summary>
internal static class MonitoringSettingsGrid
{
    public static void Render(CliHost host, MonitoringSettingsView s)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string label, string? value) => grid.AddRow(new Text(label, new Style(Color.Grey)), OutputFormat.Cell(value));
        static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
        static string OnOff(bool value) => value ? "on" : "off";

        Row("Monitoring API IP", s.MonitoringApiIp);
        Row("Communication", s.Communication);
        Row("Heartbeat interval", $"{N(s.HeartbeatIntervalSeconds)} s");
        Row("Heartbeat missed limit", N(s.HeartbeatMissedLimit));
        Row("Enrollment token validity", $"{N(s.EnrollmentTokenHours)} h");
        Row("Certificate validity", $"{N(s.CertificateDays)} d");
        Row("Verify CA", s.VerifyCa ? "yes" : "no");
        Row("System monitoring", $"{OnOff(s.SystemMonitoring)}, every {N(s.SystemIntervalSeconds)} s");
        Row("DNS monitoring", $"{OnOff(s.DnsMonitoring)}, every {N(s.DnsIntervalSeconds)} s");
        Row("DHCP monitoring", $"{OnOff(s.DhcpMonitoring)}, every {N(s.DhcpIntervalSeconds)} s; subnets warn at {N(s.DhcpUtilisationWarning)} %, critical at {N(s.DhcpUtilisationCritical)} %");
        Row("Raw retention", $"{N(s.RawRetentionMinutes)} min ({OutputFormat.Duration(TimeSpan.FromMinutes(s.RawRetentionMinutes))})");
        Row("Aggregate retention", $"{N(s.AggregateRetentionDays)} d");
        host.Console.Write(grid);
    }
}

/// <summary>msctl settings monitoring show.</summary>
internal sealed class ShowMonitoringSettingsCommand(CliHost host) : ApiCommand<OutputSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, OutputSettings settings, CancellationToken cancellationToken)
    {
        var result = await api.GetMonitoringSettingsAsync(cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => MonitoringSettingsGrid.Render(Host, result.Value));
        return ExitCodes.Ok;
    }
}

/// <summary>msctl settings monitoring set: sends only the given fields; a 400 prints one line per field error.</summary>
internal sealed class SetMonitoringSettingsCommand(CliHost host) : ApiCommand<MonitoringSettingsOptions>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, MonitoringSettingsOptions settings, CancellationToken cancellationToken)
    {
        var update = settings.ToUpdate() ?? throw new CliUsageException("nothing to change: give at least one option (see --help)");
        ApiResult<MonitoringSettingsView> result;
        try
        {
            result = await api.PutMonitoringSettingsAsync(update, cancellationToken);
        }
        catch (ApiException ex) when (ex.Status == HttpStatusCode.BadRequest && ex.Errors.Count > 0)
        {
            foreach (var (field, messages) in ex.Errors)
            {
                var name = MonitoringSettingsOptions.OptionOf.TryGetValue(field, out var option) ? option : field;
                foreach (var message in messages.DefaultIfEmpty("invalid value"))
                {
                    Host.Error.WriteLine($"error: {name}: {ApiException.OneLine(message)}");
                }
            }

            Host.Error.Flush();
            return ExitCodes.Error;
        }

        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            Host.Console.MarkupLine("[green]Saved[/] the monitoring settings.");
            MonitoringSettingsGrid.Render(Host, result.Value);
        });
        return ExitCodes.Ok;
    }
}
