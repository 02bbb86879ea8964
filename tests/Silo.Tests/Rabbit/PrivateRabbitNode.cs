using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RabbitMQ.Client;

namespace ManagedServers.Silo.Tests.Rabbit;

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
