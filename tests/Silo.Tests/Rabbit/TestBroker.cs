using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using RabbitMQ.Client;

namespace ManagedServers.Silo.Tests.Rabbit;

/// <summary>
/// A vhost of its own on the shared test broker (MANAGEDSERVERS_TEST_RABBITMQ, set by scripts/test.sh),
/// made through the management API and deleted afterwards, so broker tests run side by side.
/// </summary>
public sealed class TestVhost : IAsyncDisposable
{
    private readonly HttpClient _management;

    private TestVhost(Uri amqp, HttpClient management, string name)
    {
        Amqp = amqp;
        _management = management;
        Name = name;
    }

    public Uri Amqp { get; }

    public string Name { get; }

    public string Host => Amqp.Host;

    public int Port => Amqp.Port;

    public string User => Uri.UnescapeDataString(Amqp.UserInfo.Split(':')[0]);

    public string Password => Uri.UnescapeDataString(Amqp.UserInfo.Split(':')[1]);

    public static async Task<TestVhost> CreateAsync()
    {
        var amqp = new Uri(Environment.GetEnvironmentVariable("MANAGEDSERVERS_TEST_RABBITMQ") ?? "amqp://msadmin:msadmin@127.0.0.1:5672/");
        var management = new HttpClient { BaseAddress = new Uri(Environment.GetEnvironmentVariable("MANAGEDSERVERS_TEST_RABBITMQ_MANAGEMENT") ?? "http://127.0.0.1:15672/") };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(amqp.UserInfo))));
        var name = "mstest-" + Guid.NewGuid().ToString("N")[..12];
        var vhost = new TestVhost(amqp, management, name);
        (await management.PutAsync($"api/vhosts/{name}", JsonBody("{}"))).EnsureSuccessStatusCode();
        (await management.PutAsync($"api/permissions/{name}/{vhost.User}", JsonBody("{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}"))).EnsureSuccessStatusCode();
        return vhost;
    }

    public ConnectionFactory Factory() => new()
    {
        HostName = Host,
        Port = Port,
        VirtualHost = Name,
        UserName = User,
        Password = Password,
        AutomaticRecoveryEnabled = false,
    };

    /// <summary>Number of ready messages in a queue (management API; its figures lag by a few seconds).</summary>
    public async Task<uint> CountAsync(string queue)
    {
        await using var connection = await Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var ok = await channel.QueueDeclarePassiveAsync(queue);
        return ok.MessageCount;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _management.DeleteAsync($"api/vhosts/{Name}");
        }
        catch (HttpRequestException)
        {
        }

        _management.Dispose();
    }

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");
}

/// <summary>
/// A private RabbitMQ node (own name, port, data directory) that a test may stop and start without
/// disturbing the shared broker other tests use. Needs root (the Debian scripts switch to the
/// rabbitmq user) and the rabbitmq-server package.
/// </summary>
public sealed class PrivateRabbitNode : IAsyncDisposable
{
    private readonly string _dir;
    private readonly Dictionary<string, string> _environment;

    private PrivateRabbitNode(string node, int port, string dir)
    {
        Node = node;
        Port = port;
        _dir = dir;
        _environment = new()
        {
            ["RABBITMQ_NODENAME"] = node,
            ["RABBITMQ_NODE_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(dir, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(dir, "log"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(dir, "enabled_plugins"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(dir, "pid"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(dir, "none"),
        };
    }

    public string Node { get; }

    public int Port { get; }

    /// <summary>guest/guest on the default vhost: allowed on loopback only, which is all tests use.</summary>
    public ConnectionFactory Factory() => new() { HostName = "127.0.0.1", Port = Port, UserName = "guest", Password = "guest", AutomaticRecoveryEnabled = false };

    public static async Task<PrivateRabbitNode> StartAsync()
    {
        var port = FreePortBelow30000();
        var dir = Path.Combine("/tmp", "ms-rabbit-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "enabled_plugins"), "[].");
        await RunAsync("chown", ["-R", "rabbitmq:rabbitmq", dir], null);
        var node = new PrivateRabbitNode("mstest" + port + "@localhost", port, dir);
        await node.StartAgainAsync();
        return node;
    }

    /// <summary>Starts the node (again) and waits until it accepts AMQP connections.</summary>
    public async Task StartAgainAsync()
    {
        await RunAsync("rabbitmq-server", ["-detached"], _environment);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            try
            {
                await using var connection = await Factory().CreateConnectionAsync();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Stops the whole node (the Erlang VM), as a broker restart or crash would.</summary>
    public Task StopAsync() => RunAsync("rabbitmqctl", ["-n", Node, "-q", "stop"], null);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePortBelow30000()
    {
        // RabbitMQ derives two more ports from the AMQP port (+20000 distribution, +30000 CLI): keep all free and below 65536.
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(6000, 9000);
            if (IsFree(port) && IsFree(port + 20000) && IsFree(port + 30000))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no free port for a private RabbitMQ node");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task RunAsync(string file, string[] args, Dictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? [])
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot run {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        }
    }
}
