using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Jobs;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Services;

/// <summary>msctl services list SERVER.</summary>
internal sealed class ListServicesCommand(CliHost host) : ApiCommand<ServerIdSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ServerIdSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var result = await api.ListServicesAsync(server.Id, cancellationToken);
        OutputFormat.Write(Host, settings.Output, result.Json, () => ServiceTable.Render(Host, server, result.Value));
        return ExitCodes.Ok;
    }
}

/// <summary>The services table, shared by list and the end of service jobs.</summary>
internal static class ServiceTable
{
    public static void Render(CliHost host, ServerView server, IReadOnlyList<ServiceView> services)
    {
        var console = host.Console;
        if (services.Count == 0)
        {
            var kind = server.Kind == "dhcp" ? "dhcp4" : "dns";
            console.MarkupLineInterpolated($"[bold]{server.Name}[/] runs no services yet. Add one with: [bold]msctl services add {server.Name} {kind}[/]");
            return;
        }

        var now = host.Time.GetUtcNow();
        var table = Tables.Create(
            Tables.Column("Service"),
            Tables.Column("State"),
            Tables.Column("Since"),
            Tables.Column("Restarts"),
            Tables.Column("Version", noWrap: true),
            Tables.Column("Runtime"),
            Tables.Column("Listen", noWrap: true),
            Tables.Column("Error"));
        foreach (var s in services)
        {
            table.AddRow(
                new Text(s.Kind),
                ServiceState(s.State),
                new Text(OutputFormat.Ago(s.Since, now)),
                new Text(s.RestartCount.ToString(System.Globalization.CultureInfo.InvariantCulture), s.RestartCount > 0 ? new Style(Color.Yellow) : Style.Plain),
                OutputFormat.Cell(s.Version),
                new Text(s.Runtime),
                OutputFormat.Cell(s.Listen),
                new Text(OutputFormat.OrNone(s.Error), s.Error is null ? Style.Plain : new Style(Color.Red)));
        }

        Tables.Write(host, table);
    }

    private static Text ServiceState(string state) => new(state, new Style(state switch
    {
        "running" => Color.Green,
        "failed" => Color.Red,
        _ => Color.Grey,
    }));
}

internal sealed class AddServiceSettings : ServiceSettings
{
    [CommandOption("--version <VERSION>")]
    [Description("Image tag (docker, e.g. 3.2.6-ms1) or installed version (exec); default: the newest the host has. For an installed service: update to it (rolled back if it fails)")]
    public string? Version { get; init; }

    [CommandOption("--listen <IP|IP@PORT,...>")]
    [Description("Where the DNS service answers: an address (with --port), or address@port entries separated by commas, e.g. 127.0.0.1@15353,::1@15353 (default: port 53 on all addresses). For an installed service: moves it there (knotd restarts, every entry is checked, rolled back if one does not answer; a new configuration version)")]
    public string? Listen { get; init; }

    [CommandOption("--port <PORT>")]
    [Description("Port the DNS service answers on (default 53)")]
    public int? Port { get; init; }

    [CommandOption("--wait-for-agent <SECONDS>")]
    [Description("How long the job waits for an offline agent (default 600)")]
    public int? WaitForAgent { get; init; }
}

/// <summary>msctl services add SERVER SERVICE.</summary>
internal sealed class AddServiceCommand(CliHost host) : ApiCommand<AddServiceSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, AddServiceSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var request = settings.Listen is { } listen && (listen.Contains('@', StringComparison.Ordinal) || listen.Contains(',', StringComparison.Ordinal))
            ? new AddServiceRequest(settings.Kind, settings.Version, Port: settings.Port, WaitForAgentSeconds: settings.WaitForAgent, Listen: listen.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            : new AddServiceRequest(settings.Kind, settings.Version, settings.Listen, settings.Port, settings.WaitForAgent);
        var started = await api.AddServiceAsync(server.Id, request, cancellationToken);
        var done = await JobFollower.FollowAsync(Host, api, started, settings, $"{(started.Value.Kind == "update_service" ? "update" : "add")} {settings.Kind} on {server.Name}", cancellationToken);
        ServiceJobs.Summarize(Host, settings, done.Value);
        return ExitCodes.Ok;
    }
}

internal class ServiceSettings : JobSettings
{
    [CommandArgument(0, "<ID|NAME>")]
    [Description("Server id, or its exact name")]
    public string Server { get; init; } = "";

    [CommandArgument(1, "<SERVICE>")]
    [Description("dns, dhcp4 or dhcp6")]
    public string Kind { get; init; } = "";
}

/// <summary>msctl services start|stop|restart|remove SERVER SERVICE.</summary>
internal abstract class ManageServiceCommand(CliHost host, string action) : ApiCommand<ServiceSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, ServiceSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var started = action == "remove"
            ? await api.RemoveServiceAsync(server.Id, settings.Kind, cancellationToken)
            : await api.ManageServiceAsync(server.Id, settings.Kind, action, cancellationToken);
        var done = await JobFollower.FollowAsync(Host, api, started, settings, $"{action} {settings.Kind} on {server.Name}", cancellationToken);
        ServiceJobs.Summarize(Host, settings, done.Value);
        return ExitCodes.Ok;
    }
}

internal sealed class StartServiceCommand(CliHost host) : ManageServiceCommand(host, "start");

internal sealed class StopServiceCommand(CliHost host) : ManageServiceCommand(host, "stop");

internal sealed class RestartServiceCommand(CliHost host) : ManageServiceCommand(host, "restart");

internal sealed class RemoveServiceCommand(CliHost host) : ManageServiceCommand(host, "remove");

internal static class ServiceJobs
{
    /// <summary>After a finished service job (table mode): the service as it is now.</summary>
    public static void Summarize(CliHost host, JobSettings settings, JobView job)
    {
        if (settings.NoWait || settings.Output != OutputMode.Table || !JobFollower.IsFinished(job))
        {
            return;
        }

        if (job.Result is { ValueKind: System.Text.Json.JsonValueKind.Object } result && result.TryGetProperty("config_version", out var configVersion))
        {
            SummarizeListenChange(host, job, result, configVersion.GetInt32());
            return;
        }

        var service = JobFollower.Result(job, ContractsJson.Default.ServiceStatus);
        if (service is null)
        {
            host.Console.MarkupLineInterpolated($"[green]Done[/]: {job.Kind.Replace('_', ' ')} {job.Service}.");
            return;
        }

        host.Console.MarkupLineInterpolated(
            $"[green]Done[/]: {service.Kind} is [bold]{service.State}[/], version {OutputFormat.OrNone(service.Version)} ({service.Runtime}){(service.Listen is null ? string.Empty : ", on " + service.Listen)}.");
    }

    /// <summary>A listen change is applied like a push: say where the service answers now (each entry was checked), or that it is not running.</summary>
    private static void SummarizeListenChange(CliHost host, JobView job, System.Text.Json.JsonElement result, int configVersion)
    {
        var answering = result.TryGetProperty("listen", out var listen) && listen.ValueKind == System.Text.Json.JsonValueKind.Array
            ? listen.EnumerateArray().Select(e => e.GetString() ?? string.Empty).ToList()
            : [];
        var service = result.TryGetProperty("service", out var status) && status.ValueKind == System.Text.Json.JsonValueKind.Object
            ? System.Text.Json.JsonSerializer.Deserialize(status, ContractsJson.Default.ServiceStatus)
            : null;
        if (answering.Count > 0)
        {
            host.Console.MarkupLineInterpolated(
                $"[green]Done[/]: {job.Service} answers on [bold]{DnsListen.Display(answering)}[/] (each entry checked), configuration version {configVersion}.");
            return;
        }

        host.Console.MarkupLineInterpolated(
            $"[green]Done[/]: configuration version {configVersion}; {job.Service} is {service?.State ?? "not running"}: it listens on {service?.Listen ?? "the new entries"} once it starts.");
    }
}
