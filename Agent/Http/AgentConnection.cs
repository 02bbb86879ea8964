using System.Security.Cryptography.X509Certificates;
using ManagedServers.Agent.Security;

namespace ManagedServers.Agent.Http;

/// <summary>
/// The one HTTP client the heartbeat, command and renewal loops share (mTLS with the current client
/// certificate, trust in the bundle CA). After a renewal <see cref="UpdateClientCertificate"/> swaps in
/// a new handler: new requests use the new certificate, requests in flight finish on the old one,
/// which is disposed after a grace period.
/// </summary>
internal sealed class AgentConnection : IDisposable
{
    private static readonly TimeSpan RetireAfter = TimeSpan.FromMinutes(2);

    private readonly CaTrust _trust;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<Retiring> _retiring = [];
    private Current _current;
    private bool _disposed;

    public AgentConnection(Uri baseUri, CaTrust trust, X509Certificate2 clientCertificate, TimeProvider time)
    {
        BaseUri = baseUri;
        _trust = trust;
        _time = time;
        _current = Create(clientCertificate);
    }

    public Uri BaseUri { get; }

    public CaTrust Trust => _trust;

    public HttpClient Client => Volatile.Read(ref _current).Client;

    public X509Certificate2 ClientCertificate => Volatile.Read(ref _current).Certificate;

    public Uri Resolve(string relative) => AgentEndpoints.Resolve(BaseUri, relative);

    public void UpdateClientCertificate(X509Certificate2 certificate)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var old = _current;
            Volatile.Write(ref _current, Create(certificate));
            var retiring = new Retiring(old);
            retiring.Timer = _time.CreateTimer(_ => Retire(retiring), null, RetireAfter, Timeout.InfiniteTimeSpan);
            _retiring.Add(retiring);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var retiring in _retiring)
            {
                retiring.Dispose();
            }

            _retiring.Clear();
            _current.Dispose();
        }
    }

    private void Retire(Retiring retiring)
    {
        lock (_lock)
        {
            if (!_retiring.Remove(retiring))
            {
                return;
            }
        }

        retiring.Dispose();
    }

    private Current Create(X509Certificate2 certificate) =>
        new(AgentHttp.CreateClient(AgentHttp.CreateHandler(_trust, certificate)), certificate);

    private sealed record Current(HttpClient Client, X509Certificate2 Certificate) : IDisposable
    {
        public void Dispose()
        {
            Client.Dispose();
            Certificate.Dispose();
        }
    }

    private sealed class Retiring(Current connection) : IDisposable
    {
        public ITimer? Timer { get; set; }

        public void Dispose()
        {
            Timer?.Dispose();
            connection.Dispose();
        }
    }
}
