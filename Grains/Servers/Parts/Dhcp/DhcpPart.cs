using ManagedServers.Grains.Dhcp;
using ManagedServers.Grains.Interfaces.Dhcp;

namespace ManagedServers.Grains.Servers.Parts.Dhcp;

/// <summary>The server's DHCP configurations, for the push job handler (through <see cref="Jobs.IJobContext.Features{T}"/>).</summary>
public interface IDhcpConfigs
{
    /// <summary>The configuration of <paramref name="family"/>, or null when the server has none.</summary>
    DhcpConfig? Get(DhcpFamily family);
}

/// <summary>
/// The server's DHCP side: one configuration per family (imported from a Kea document, or edited object by object), reviewed before any push and rendered as the Kea document the push sends. Its own persistent state
/// (<c>dhcp</c>), written when a configuration is imported; what the agent applied is recorded by the push job in the
/// config versions (<c>dhcp4</c>, <c>dhcp6</c>). Serves <see cref="IServerDhcpGrain"/> through the shell.
/// </summary>
public sealed class DhcpPart(IServerHost host) : ServerPart(host), IDhcpConfigs
{
    private readonly IPersistentState<ServerDhcpState> _store = host.State<ServerDhcpState>("dhcp");

    public DhcpConfig? Get(DhcpFamily family) => family == DhcpFamily.V4 ? _store.State.V4 : _store.State.V6;

    public async Task<DhcpImportSummary> ImportAsync(string document)
    {
        if (Host.Definition is null)
        {
            throw new NotFoundException($"server '{Host.Id}' not found");
        }

        DhcpConfig config;
        DhcpImportSummary summary;
        try
        {
            (config, summary) = KeaImport.Parse(document);
        }
        catch (KeaConfigException e)
        {
            throw new DhcpConfigException(e.Message) { Field = e.Where };
        }

        await SaveAsync(config);
        return summary with { Findings = [.. DhcpReview.Review(config, Host.Id)] };
    }

    public async Task<DhcpConfig> EditAsync(DhcpFamily family, DhcpEdit edit, bool dryRun)
    {
        if (Host.Definition is null)
        {
            throw new NotFoundException($"server '{Host.Id}' not found");
        }

        if (Host.Definition.Kind != ServerKind.Dhcp)
        {
            throw new DhcpConfigException($"server '{Host.Definition.Name}' is not a DHCP server") { Field = "servers" };
        }

        var config = DhcpEditor.Apply(Get(family), family, edit);
        if (!dryRun)
        {
            await SaveAsync(config);
        }

        return config;
    }

    private Task SaveAsync(DhcpConfig config)
    {
        if (config.Family == DhcpFamily.V4)
        {
            _store.State.V4 = config;
        }
        else
        {
            _store.State.V6 = config;
        }

        return _store.WriteStateAsync();
    }

    public string? Render(DhcpFamily family) => Get(family) is { } config ? KeaRender.Render(config, Host.Id) : null;

    public ImmutableArray<DhcpFinding> Review(DhcpFamily family) => Get(family) is { } config ? [.. DhcpReview.Review(config, Host.Id)] : [];

    public override async Task OnDeleteAsync()
    {
        await _store.ClearStateAsync();
        _store.State = new ServerDhcpState();
    }
}

/// <summary>A server's DHCP configurations, one per family.</summary>
[GenerateSerializer, Alias("ms.ServerDhcpState")]
public sealed class ServerDhcpState
{
    [Id(0)]
    public DhcpConfig? V4 { get; set; }

    [Id(1)]
    public DhcpConfig? V6 { get; set; }
}
