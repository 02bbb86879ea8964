using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Dhcp;

internal sealed class DhcpPushSettings : OutputSettings
{
    [CommandArgument(0, "<SERVER>")]
    [Description("DHCP servers to push to, by id or name (their HA partners are added)")]
    public string[] Servers { get; init; } = [];

    [CommandOption("--family <4|6>")]
    [Description("DHCPv4 (default) or DHCPv6")]
    [DefaultValue(4)]
    public int Family { get; init; } = 4;

    [CommandOption("--acknowledge-warnings")]
    [Description("Push although the review warns (errors always refuse)")]
    public bool AcknowledgeWarnings { get; init; }

    [CommandOption("--no-wait")]
    [Description("Print the operation id and return at once")]
    public bool NoWait { get; init; }
}

/// <summary>
/// msctl dhcp push SERVER…: one operation over the servers and their HA partners (pairs one peer at a time, standby first,
/// with a hand-over), followed step by step; at the end a table with each server's result. A server that failed makes the
/// exit code non-zero.
/// </summary>
internal sealed class DhcpPushCommand(CliHost host) : ApiCommand<DhcpPushSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, DhcpPushSettings settings, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var server in settings.Servers)
        {
            var found = (await ServerResolver.ResolveAsync(api, server, cancellationToken)).Value;
            ids.Add(found.Id);
            names[found.Id] = found.Name;
        }

        var operation = await api.PushDhcpAsync(new DhcpPushRequest(settings.Family, ids, settings.AcknowledgeWarnings ? true : null), cancellationToken);
        var print = settings.Output == OutputMode.Table;
        if (print)
        {
            Host.Console.MarkupLineInterpolated($"Operation [bold]{operation.Value.OperationId}[/]: {operation.Value.Summary}");
        }

        var shown = new HashSet<string>(StringComparer.Ordinal);
        while (!settings.NoWait)
        {
            foreach (var step in operation.Value.Steps.Where(s => s.State is "succeeded" or "failed" or "skipped"))
            {
                if (print && shown.Add($"{step.Stage}/{step.ServerId}/{step.JobKind}/{step.Label}"))
                {
                    var colour = step.State == "succeeded" ? "green" : step.Mode == "required" ? "red" : "yellow";
                    Host.Console.MarkupLineInterpolated($"  [{colour}]{step.State}[/] {step.Label}{(step.Error is { } e ? ": " + e : string.Empty)}");
                }
            }

            if (operation.Value.State != "running")
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), Host.Time, cancellationToken);
            operation = await api.GetOperationAsync(operation.Value.OperationId, cancellationToken);
        }

        // HA partners came along without being named: their names for the table and the error.
        foreach (var id in operation.Value.Servers.Select(s => s.ServerId).Where(id => !names.ContainsKey(id)).ToList())
        {
            names[id] = (await api.GetServerAsync(id, cancellationToken)).Value.Name;
        }

        OutputFormat.Write(Host, settings.Output, operation.Json, () =>
        {
            if (settings.NoWait)
            {
                Host.Console.MarkupLineInterpolated($"Started; [bold]GET /api/v1/operations/{operation.Value.OperationId}[/] shows its progress, and [bold]msctl jobs list[/] its jobs.");
                return;
            }

            var table = Tables.Create("Server", "Result", "Error");
            foreach (var server in operation.Value.Servers)
            {
                var colour = server.State == "succeeded" ? "green" : "red";
                table.AddRow(new Text(names.GetValueOrDefault(server.ServerId, server.ServerId)), new Markup($"[{colour}]{server.State}[/]"), new Text(server.Error ?? "-"));
            }

            Tables.Write(Host, table);
        });

        var failed = operation.Value.Servers.Where(s => s.State is "failed" or "skipped").ToList();
        return failed.Count == 0 || settings.NoWait
            ? ExitCodes.Ok
            : throw new CliException($"the push failed on {failed.Count} of {operation.Value.Servers.Count} server(s): {string.Join("; ", failed.Select(f => $"{names.GetValueOrDefault(f.ServerId, f.ServerId)}: {f.Error}"))}");
    }
}
