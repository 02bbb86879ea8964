using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Servers;

internal sealed class AddServerSettings : OutputSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("Unique server name, e.g. dns-01")]
    public string Name { get; init; } = "";

    [CommandOption("-k|--kind <KIND>")]
    [Description("Server kind: [green]dns[/], [green]dhcp[/] or [green]backup[/] (required)")]
    public string? Kind { get; init; }

    [CommandOption("--address <ADDRESS>")]
    [Description("Host name or IP address of the server")]
    public string? Address { get; init; }

    [CommandOption("--os <OS>")]
    [Description("Operating system of the server")]
    public string? Os { get; init; }

    [CommandOption("--runtime <RUNTIME>")]
    [Description("How components run: [green]docker[/], [green]exec[/] or [green]auto[/] (the default: the agent picks docker where Docker answers, else exec)")]
    public string? Runtime { get; init; }

    [CommandOption("--communication <MODE>")]
    [Description("How monitoring data flows: [green]push[/] (the agent sends it), [green]pull[/] (the control plane scrapes the agent, for firewalls that block inbound connections to the control plane) or [green]amqp[/] (through RabbitMQ); default: RabbitMQ's default_communication when it is amqp, else the monitoring settings' communication")]
    public string? Communication { get; init; }

    [CommandOption("--monitoring-api-ip <IP>")]
    [Description("Control plane address the agent reports to (default: the control plane's setting)")]
    public string? MonitoringApiIp { get; init; }

    [CommandOption("--pull-port <PORT>")]
    [Description("Pull mode: the port of the agent's pull endpoint (run --pull-listen); default: the control plane's Pull:DefaultPort, 9443")]
    public int? PullPort { get; init; }

    [CommandOption("--user <SERVERUSER>")]
    [Description("Name of the server's own API user")]
    public string? ServerUser { get; init; }

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } invalid ? invalid
        : string.IsNullOrWhiteSpace(Kind)
            ? ValidationResult.Error("--kind is required (dns, dhcp or backup)")
        : PullPort is < 1 or > 65535
            ? ValidationResult.Error("--pull-port must be between 1 and 65535")
            : ValidationResult.Success();
}

/// <summary>msctl servers add.</summary>
internal sealed class AddServerCommand(CliHost host) : ApiCommand<AddServerSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, AddServerSettings settings, CancellationToken cancellationToken)
    {
        var request = new CreateServerRequest(
            settings.Name,
            settings.Kind,
            settings.Address,
            settings.Os,
            settings.Runtime,
            settings.Communication,
            settings.MonitoringApiIp,
            settings.ServerUser,
            settings.PullPort);
        var result = await api.CreateServerAsync(request, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () =>
        {
            var server = result.Value;
            Host.Console.MarkupLineInterpolated($"[green]Created[/] {server.Kind} server [bold]{server.Name}[/] (id {server.Id}, state {server.State}).");
            Host.Console.MarkupLineInterpolated($"Next: download its setup bundle with [bold]msctl servers bundle {server.Name}[/]");
        });
        return ExitCodes.Ok;
    }
}
