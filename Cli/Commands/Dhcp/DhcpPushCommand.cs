using System.ComponentModel;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Jobs;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;
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
        foreach (var server in settings.Servers)
        {
            ids.Add((await ServerResolver.ResolveAsync(api, server, cancellationToken)).Value.Id);
        }

        var operation = await api.PushDhcpAsync(new DhcpPushRequest(settings.Family, ids, settings.AcknowledgeWarnings ? true : null), cancellationToken);
        return await OperationFollower.FollowAsync(Host, api, operation, settings.Output, !settings.NoWait, cancellationToken);
    }
}
