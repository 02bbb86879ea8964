using ManagedServers.Silo.Tests.E2E;

namespace ManagedServers.Silo.Tests.Broker;

/// <summary>A silo process test with a throw-away vhost of its own on the test broker.</summary>
public abstract class BrokerSiloTestBase(string prefix) : SiloTestBase(prefix)
{
    protected TestBroker Broker { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Broker = await TestBroker.CreateAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Broker.DisposeAsync();
    }
}
