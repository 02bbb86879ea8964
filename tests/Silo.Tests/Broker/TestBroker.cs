using System.Text;
using ManagedServers.Api.Broker;
using RabbitMQ.Client;

namespace ManagedServers.Silo.Tests.Broker;

/// <summary>
/// A throw-away virtual host on the test RabbitMQ (env MANAGEDSERVERS_TEST_RABBITMQ and
/// MANAGEDSERVERS_TEST_RABBITMQ_MANAGEMENT, else the local defaults), so tests run in parallel.
/// Deletes the vhost and the agent users it was told about afterwards.
/// </summary>
public sealed class TestBroker : IAsyncDisposable
{
    private const string DefaultAmqp = "amqp://msadmin:msadmin@127.0.0.1:5672/";
    private const string DefaultManagement = "http://127.0.0.1:15672/";
    private readonly List<string> _users = [];

    private TestBroker(BrokerConnection admin)
    {
        Admin = admin;
        Management = new RabbitMqManagementClient(Http, new Uri(admin.ManagementUrl), admin.User, admin.Password);
    }

    public static HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The admin account, on this test's virtual host.</summary>
    public BrokerConnection Admin { get; }

    public string VirtualHost => Admin.VirtualHost;

    public RabbitMqManagementClient Management { get; }

    /// <summary>The admin account on the default virtual host "/".</summary>
    public static BrokerConnection AdminOnDefaultVhost()
    {
        var uri = new Uri(Environment.GetEnvironmentVariable("MANAGEDSERVERS_TEST_RABBITMQ") is { Length: > 0 } a ? a : DefaultAmqp);
        var management = Environment.GetEnvironmentVariable("MANAGEDSERVERS_TEST_RABBITMQ_MANAGEMENT") is { Length: > 0 } m ? m : DefaultManagement;
        var userInfo = uri.UserInfo.Split(':', 2);
        var path = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        return new BrokerConnection(
            uri.Host,
            uri.IsDefaultPort || uri.Port < 0 ? 5672 : uri.Port,
            path.Length == 0 ? "/" : path,
            Uri.UnescapeDataString(userInfo[0]),
            userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : string.Empty,
            uri.Scheme == "amqps",
            management);
    }

    public static string NewVirtualHostName() => "ms-test-" + Guid.NewGuid().ToString("N")[..12];

    public static async Task<TestBroker> CreateAsync(string? virtualHost = null)
    {
        var admin = AdminOnDefaultVhost() with { VirtualHost = virtualHost ?? NewVirtualHostName() };
        var broker = new TestBroker(admin);

        // Set-up, not what is tested: the shared broker's management API, busy with every test class's vhosts, once cut
        // a response short; both calls are idempotent PUTs, so a couple of retries keep a class from failing on that.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await broker.Management.PutVirtualHostAsync(admin.VirtualHost, CancellationToken.None);
                await broker.Management.PutPermissionsAsync(admin.VirtualHost, admin.User, ".*", ".*", ".*", CancellationToken.None);
                return broker;
            }
            catch (ManagedServers.Api.Broker.BrokerUnavailableException) when (attempt < 3)
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt));
            }
        }
    }

    /// <summary>A plain user with full rights on this vhost (no tags), deleted when the test ends.</summary>
    public async Task CreateUserAsync(string name, string password)
    {
        Track(name);
        await Management.PutUserAsync(name, password, string.Empty, CancellationToken.None);
        await Management.PutPermissionsAsync(VirtualHost, name, ".*", ".*", ".*", CancellationToken.None);
    }

    /// <summary>Deletes this agent user when the test ends.</summary>
    public void Track(string user)
    {
        lock (_users)
        {
            _users.Add(user);
        }
    }

    public Task<IConnection> ConnectAsync(BrokerConnection connection) => connection.Factory(TimeSpan.FromSeconds(10), "ms-tests").CreateConnectionAsync();

    public Task<IConnection> ConnectAsync(AmqpCredentials credentials) =>
        ConnectAsync(new BrokerConnection(credentials.Host, credentials.Port, credentials.VirtualHost, credentials.User, credentials.Password, credentials.Tls, Admin.ManagementUrl));

    public static byte[] Body(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Ready messages in a queue of this vhost.</summary>
    public async Task<uint> CountAsync(string queue)
    {
        await using var connection = await ConnectAsync(Admin);
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    public async ValueTask DisposeAsync()
    {
        string[] users;
        lock (_users)
        {
            users = [.. _users];
        }

        foreach (var user in users)
        {
            await Management.DeleteUserAsync(user, CancellationToken.None);
        }

        await Management.DeleteVirtualHostAsync(VirtualHost, CancellationToken.None);
    }
}

/// <summary>Fixed settings for <see cref="AgentBrokerAccounts"/> in tests.</summary>
public sealed class FixedBrokerSettings(BrokerConnection? connection) : IBrokerSettingsSource
{
    public Task<BrokerConnection?> GetAsync(CancellationToken cancellationToken) => Task.FromResult(connection);
}
