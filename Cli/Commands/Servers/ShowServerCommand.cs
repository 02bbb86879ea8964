using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;

namespace ManagedServers.Cli.Commands.Servers;

/// <summary>msctl servers show.</summary>
internal sealed class ShowServerCommand(CliHost host) : ApiCommand<ServerIdSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ServerIdSettings settings, CancellationToken cancellationToken)
    {
        var result = await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => Render(result.Value));
        return ExitCodes.Ok;
    }

    private void Render(ServerView s)
    {
        var now = Host.Time.GetUtcNow();
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string label, string? value) => grid.AddRow(new Text(label, new Style(Color.Grey)), OutputFormat.Cell(value));

        Row("Name", s.Name);
        Row("Id", s.Id);
        Row("Kind", s.Kind);
        grid.AddRow(
            new Text("State", new Style(Color.Grey)),
            new Markup(OutputFormat.StateMarkup(s.State) + (s.StateSince is { } since ? Markup.Escape($" (since {OutputFormat.Ago(since, now)})") : "")));
        Row("Address", s.Address);
        Row("OS", s.Os);
        Row("Runtime", s.Runtime);
        Row("Communication", s.Communication);
        Row("Monitoring API IP", s.MonitoringApiIp);
        Row("Server user", s.ServerUser);
        Row("Hostname", s.Hostname);
        Row("Last heartbeat", OutputFormat.Ago(s.LastHeartbeat, now));
        Row("Uptime", s.UptimeSeconds is { } up ? OutputFormat.Duration(TimeSpan.FromSeconds(up)) : null);
        Row("Requests (2m)", s.Requests2m.ToString());
        Row("Monitor", s.Versions?.Monitor);
        Row("Backup", s.Versions?.Backup);
        Row("DNS", s.Versions?.Dns);
        Row("DHCPv4", s.Versions?.Dhcp4);
        Row("DHCPv6", s.Versions?.Dhcp6);
        Row("Certificate until", OutputFormat.Timestamp(s.CertificateNotAfter, now));
        Row("Created", OutputFormat.Timestamp(s.CreatedAt, now));
        Row("Active jobs", s.ActiveJobs == 0 ? null : $"{s.ActiveJobs} (msctl jobs list --server {s.Name})");
        Host.Console.Write(grid);
        if (s.Kind != "backup")
        {
            Host.Console.WriteLine();
            Services.ServiceTable.Render(Host, s, s.Services ?? []);
        }
    }
}
