using System.ComponentModel;
using System.Globalization;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Monitor;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Dns;

internal sealed class DnsTopSettings : ServerIdSettings
{
    [CommandOption("--zone <ZONE>")]
    [Description("Only names of this zone")]
    public string? Zone { get; init; }

    [CommandOption("-n|--count <N>")]
    [Description("How many names (1–10000, default 20)")]
    [DefaultValue(20)]
    public int Count { get; init; } = 20;

    [CommandOption("--since <DURATION>")]
    [Description("Window up to now: 15m, 1h, 6h, 2d... (default 1h)")]
    [DefaultValue("1h")]
    public string Since { get; init; } = "1h";

    public TimeSpan Window => SinceDuration.TryParse(Since, out var window) ? window : TimeSpan.FromHours(1);

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } invalid ? invalid
        : Count is < 1 or > 10_000 ? ValidationResult.Error($"invalid -n {Count}: between 1 and 10000")
        : SinceDuration.TryParse(Since, out _) ? ValidationResult.Success()
        : ValidationResult.Error($"invalid --since '{Since}': {SinceDuration.Hint} (at most {SinceDuration.Max.TotalDays:0}d)");
}

/// <summary>msctl dns top SERVER: the names a DNS server answered most over a window, with hits and last access.</summary>
internal sealed class DnsTopCommand(CliHost host) : ApiCommand<DnsTopSettings>(host)
{
    /// <summary>The monitoring settings for the empty state's hint, or null when they cannot be read (e.g. no permission).</summary>
    private static async Task<ManagedServers.Contracts.Api.MonitoringSettingsView?> MonitoringSettingsAsync(ApiClient api, CancellationToken cancellationToken)
    {
        try
        {
            return (await api.GetMonitoringSettingsAsync(cancellationToken)).Value;
        }
        catch (ApiException)
        {
            return null;
        }
    }

    protected override async Task<int> RunAsync(ApiClient api, DnsTopSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var to = Host.Time.GetUtcNow();
        var from = to - settings.Window;
        var zone = string.IsNullOrWhiteSpace(settings.Zone) ? null : settings.Zone.Trim();
        var result = await api.GetDnsTopAsync(server.Id, zone, settings.Count, from, to, cancellationToken);
        var monitoring = result.Value.Items.Count == 0 && settings.Output == OutputMode.Table ? await MonitoringSettingsAsync(api, cancellationToken) : null;
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            var view = result.Value;
            if (view.Items.Count == 0)
            {
                Host.Console.MarkupLineInterpolated($"No DNS hits recorded for [bold]{server.Name}[/]{(zone is null ? string.Empty : " in " + zone)} in the last {settings.Since.Trim()}.");
                Host.Console.WriteLine(monitoring switch
                {
                    { DnsMonitoring: false } => "DNS monitoring is off: turn it on with msctl settings monitoring set --dns-monitoring.",
                    { } m => string.Create(CultureInfo.InvariantCulture, $"Hits arrive once per DNS interval (every {m.DnsIntervalSeconds} s), after the agent's first full interval; the agent's own health checks are not counted."),
                    null => "Hits arrive once per DNS interval (60 s by default: msctl settings monitoring), after the agent's first full interval; the agent's own health checks are not counted.",
                });
                return;
            }

            var now = Host.Time.GetUtcNow();
            var table = Tables.Create(
                Tables.Column("#", right: true),
                Tables.Column("Name", noWrap: true),
                Tables.Column("Zone", noWrap: true),
                Tables.Column("Hits", right: true),
                Tables.Column("Last access"));
            var rank = 0;
            foreach (var item in view.Items)
            {
                table.AddRow(
                    new Text((++rank).ToString(CultureInfo.InvariantCulture)),
                    new Text(item.Name),
                    new Text(item.Zone),
                    new Text(item.Hits.ToString("N0", CultureInfo.InvariantCulture)),
                    new Text(OutputFormat.Ago(item.LastAccess, now)));
            }

            Host.Console.MarkupLineInterpolated($"Top names of [bold]{server.Name}[/]{(zone is null ? string.Empty : " in " + zone)}, last {settings.Since.Trim()}:");
            Tables.Write(Host, table);
        });
        return ExitCodes.Ok;
    }
}
