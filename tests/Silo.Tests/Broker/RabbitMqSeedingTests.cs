using System.Net;
using System.Net.Http.Json;
using System.Text;
using ManagedServers.Silo.Tests.E2E;

namespace ManagedServers.Silo.Tests.Broker;

/// <summary>The silo's RabbitMq configuration section seeds the settings once, with the password encrypted.</summary>
public sealed class RabbitMqSeedingTests : SiloTestBase
{
    private static readonly BrokerSeed Seed = BrokerSeed.New();
    private TestBroker _broker = null!;

    public RabbitMqSeedingTests()
        : base("rmq-seed", Seed.SiloArgs())
    {
    }

    public override async Task InitializeAsync()
    {
        _broker = await TestBroker.CreateAsync(Seed.VirtualHost);
        await _broker.CreateUserAsync(Seed.User, Seed.Password);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Configuration_seeds_the_settings_and_the_seeded_password_works()
    {
        var view = await Silo.Http.GetFromJsonAsync<RabbitMqSettingsView>($"{Silo.BaseUrl}/api/v1/settings/rabbitmq", ContractsJson.WireOptions);
        Assert.Equal(new RabbitMqSettingsView(Seed.Admin.Host, Seed.Admin.Port, Seed.VirtualHost, Seed.User, true, false, Seed.Admin.ManagementUrl, "push"), view);

        using var response = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/settings/rabbitmq/test", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<RabbitMqTestResult>(ContractsJson.WireOptions))!;
        Assert.True(result.Ok, result.Detail);

        var needle = Encoding.UTF8.GetBytes(Seed.Password);
        foreach (var file in Directory.EnumerateFiles(Silo.DataDir, "*", SearchOption.AllDirectories))
        {
            Assert.False((await File.ReadAllBytesAsync(file)).AsSpan().IndexOf(needle) >= 0, $"{file} holds the seeded password in plain text");
        }
    }

    private sealed record BrokerSeed(string VirtualHost, string User, string Password)
    {
        public Api.Broker.BrokerConnection Admin { get; } = TestBroker.AdminOnDefaultVhost();

        public static BrokerSeed New() =>
            new(TestBroker.NewVirtualHostName(), "ms-seed-" + Guid.NewGuid().ToString("N")[..8], "seed-" + Guid.NewGuid().ToString("N"));

        public Dictionary<string, string> SiloArgs() => new()
        {
            ["RabbitMq:Host"] = Admin.Host,
            ["RabbitMq:Port"] = Admin.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = VirtualHost,
            ["RabbitMq:User"] = User,
            ["RabbitMq:Password"] = Password,
            ["RabbitMq:ManagementUrl"] = Admin.ManagementUrl,
        };
    }
}
