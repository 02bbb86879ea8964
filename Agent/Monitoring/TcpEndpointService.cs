using System.Net;
using System.Net.Sockets;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// The accept loop the agent's small HTTP endpoints share (Prometheus, pull): binds at start (a failure is
/// reported and the agent runs on without the endpoint), accepts until shutdown, refuses connections beyond
/// <paramref name="maxConnections"/> and hands each accepted socket to <see cref="ServeAsync"/>, which owns it.
/// </summary>
internal abstract class TcpEndpointService(IPEndPoint listen, int maxConnections) : BackgroundService
{
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(100);
    private TcpListener? _listener;
    private int _connections;

    /// <summary>The bound address once started (the real port when <c>listen</c> has port 0); null when not listening.</summary>
    public IPEndPoint? LocalEndpoint { get; private set; }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var listener = new TcpListener(listen);
        try
        {
            listener.Start();
            _listener = listener;
            LocalEndpoint = (IPEndPoint)listener.LocalEndpoint;
            OnListening(LocalEndpoint.ToString());
        }
        catch (SocketException e)
        {
            listener.Dispose();
            OnListenFailed(listen.ToString(), e.Message);
        }

        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _listener?.Dispose();
        base.Dispose();
        GC.SuppressFinalize(this);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_listener is not { } listener)
        {
            return;
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptSocketAsync(stoppingToken);
                }
                catch (SocketException e)
                {
                    OnRequestFailed(null, e.Message); // e.g. a connection reset before accept, or out of file descriptors
                    await Task.Delay(AcceptRetryDelay, stoppingToken); // never a busy loop on a persistent error
                    continue;
                }

                if (Interlocked.Increment(ref _connections) > maxConnections)
                {
                    Interlocked.Decrement(ref _connections);
                    client.Dispose(); // too many at once
                    continue;
                }

                _ = ServeCountedAsync(client, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Serves one connection and disposes the socket; must not throw.</summary>
    protected abstract Task ServeAsync(Socket client, CancellationToken stoppingToken);

    protected abstract void OnListening(string address);

    protected abstract void OnListenFailed(string address, string error);

    protected abstract void OnRequestFailed(string? remote, string error);

    private async Task ServeCountedAsync(Socket client, CancellationToken stoppingToken)
    {
        try
        {
            await ServeAsync(client, stoppingToken);
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }
}
