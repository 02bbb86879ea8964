using ManagedServers.Grains.Interfaces.Servers;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Grains.Servers;

/// <summary>
/// The agent's certificates: one current certificate per server (and, during a renewal, the one it is renewing to).
/// Enrolment supersedes every earlier certificate at once; the first use of a renewed certificate supersedes the
/// one it replaced. A superseded certificate is refused and raises a "possible cloned agent" event.
/// </summary>
public sealed partial class ManagedServerGrain
{
    /// <summary>Superseded serials remembered (to tell a copied certificate from an unknown one).</summary>
    private const int MaxSupersededSerials = 20;

    /// <summary>Events kept per server.</summary>
    private const int MaxEvents = 100;

    /// <summary>
    /// How long a certificate replaced by a renewal is still accepted: the agent switches its connection at once, but a
    /// request it sent just before may arrive after the new certificate's first use (the agent retires its old
    /// connection after two minutes). Re-enrolment and revocation take effect at once.
    /// </summary>
    private static readonly TimeSpan RenewalGrace = TimeSpan.FromMinutes(2);

    /// <summary>A refused certificate raises at most one event in this time.</summary>
    private static readonly TimeSpan RefusalEventInterval = TimeSpan.FromMinutes(10);

    /// <summary>When each refused serial last raised an event (in memory: a reactivation may raise one more).</summary>
    private readonly Dictionary<string, DateTimeOffset> _refusalReported = new(StringComparer.OrdinalIgnoreCase);

    public async Task RecordCertificateAsync(AgentCertificate certificate, string? renewedFrom = null)
    {
        RequireDefinition();
        var now = time.GetUtcNow();
        var entry = new IssuedCertificate { Serial = certificate.Serial, NotAfter = certificate.NotAfter, Issuer = certificate.Issuer };
        if (renewedFrom is null)
        {
            // Enrolment: a new identity. Whoever holds an earlier certificate (a copy, an old install) is out.
            Supersede(Record.Certificates.Select(c => c.Serial));
            Record.Certificates.Clear();
            Record.Certificates.Add(entry);
            AddEvent(ServerEventKinds.Enrolled, "info", $"agent enrolled; certificate {Short(certificate.Serial)} valid until {certificate.NotAfter:u}");
        }
        else
        {
            if (Find(renewedFrom) is not { Renewing: false, RetiringUntil: null })
            {
                throw new ConflictException($"certificate {Short(renewedFrom)} is not this server's current certificate");
            }

            // An earlier renewal whose answer was lost was never used: the new one replaces it.
            Supersede(Record.Certificates.Where(c => c.Renewing).Select(c => c.Serial));
            Record.Certificates.RemoveAll(c => c.Renewing || c.NotAfter < now || c.RetiringUntil < now);
            entry.Renewing = true;
            Record.Certificates.Add(entry);
        }

        await SaveAsync();
        await PushToIndexAsync();
    }

    public Task<AgentAuthorization> AuthorizeAgentAsync(string certificateSerial)
    {
        if (!Record.Exists)
        {
            return Task.FromResult(AgentAuthorization.NoServer);
        }

        var now = time.GetUtcNow();
        var found = Find(certificateSerial);
        if (found is null || found.NotAfter <= now || found.RetiringUntil <= now)
        {
            return Task.FromResult(Record.SupersededSerials.Contains(certificateSerial, StringComparer.OrdinalIgnoreCase)
                ? AgentAuthorization.Superseded
                : AgentAuthorization.Unknown);
        }

        _requests.Add();
        return Task.FromResult(found.Renewing ? AgentAuthorization.AllowedFirstUse : AgentAuthorization.Allowed);
    }

    public async Task PromoteCertificateAsync(string certificateSerial)
    {
        if (!Record.Exists || Find(certificateSerial) is not { Renewing: true } renewed)
        {
            return; // already promoted by a concurrent request, or revoked meanwhile
        }

        // The replaced certificate is superseded, with a short grace for requests already on their way.
        var now = time.GetUtcNow();
        Supersede(Record.Certificates.Where(c => c != renewed).Select(c => c.Serial));
        Record.Certificates.RemoveAll(c => c != renewed && (c.Renewing || c.RetiringUntil is not null || c.NotAfter < now));
        foreach (var replaced in Record.Certificates.Where(c => c != renewed))
        {
            replaced.RetiringUntil = now + RenewalGrace;
        }

        renewed.Renewing = false;
        AddEvent(ServerEventKinds.CertificateRenewed, "info", $"agent renewed its certificate; {Short(certificateSerial)} valid until {renewed.NotAfter:u}");
        await SaveAsync();
        await PushToIndexAsync();
    }

    public async Task ReportRefusedCertificateAsync(string certificateSerial, string? remoteAddress)
    {
        if (!Record.Exists)
        {
            return;
        }

        var now = time.GetUtcNow();
        if (_refusalReported.TryGetValue(certificateSerial, out var last) && now - last < RefusalEventInterval)
        {
            return;
        }

        if (_refusalReported.Count > 1000)
        {
            _refusalReported.Clear();
        }

        _refusalReported[certificateSerial] = now;
        var superseded = Record.SupersededSerials.Contains(certificateSerial, StringComparer.OrdinalIgnoreCase);
        var from = string.IsNullOrEmpty(remoteAddress) ? string.Empty : $" from {remoteAddress}";
        var message = superseded
            ? $"possible cloned agent: certificate {Short(certificateSerial)}, replaced or revoked, was presented{from} and refused. If this server's agent is the one refused, re-enrol it; otherwise find the copy"
            : $"possible cloned agent: certificate {Short(certificateSerial)}, signed by this control plane's CA for this server but not issued to its agent now, was presented{from} and refused";
        AddEvent(ServerEventKinds.CertificateRefused, "warning", message);
        LogCertificateRefused(logger, Id, Short(certificateSerial), remoteAddress ?? "?");
        await SaveAsync();
    }

    public async Task<int> RevokeCertificatesAsync()
    {
        var requestedBy = Caller.Current;
        RequireDefinition();
        var now = time.GetUtcNow();
        var live = Record.Certificates.Count(c => c.NotAfter > now && !(c.RetiringUntil <= now));
        Supersede(Record.Certificates.Select(c => c.Serial));
        Record.Certificates.Clear();
        AddEvent(ServerEventKinds.CertificateRevoked, "warning", $"{live} agent certificate(s) revoked by {requestedBy}; the agent must enrol again with a new setup bundle");
        await SaveAsync();
        await PushToIndexAsync();
        _commandsAvailable.TrySetResult(); // wake a long poll held by the revoked agent: its next request is refused
        return live;
    }

    public Task<ImmutableArray<ServerEvent>> GetEventsAsync() =>
        Task.FromResult(Record.Exists ? [.. Record.Events] : ImmutableArray<ServerEvent>.Empty);

    private IssuedCertificate? CurrentCertificate() => Record.Certificates.LastOrDefault(c => c is { Renewing: false, RetiringUntil: null });

    private IssuedCertificate? Find(string serial) =>
        Record.Certificates.Find(c => string.Equals(c.Serial, serial, StringComparison.OrdinalIgnoreCase));

    private void Supersede(IEnumerable<string> serials)
    {
        foreach (var serial in serials.ToList())
        {
            Record.SupersededSerials.Remove(serial);
            Record.SupersededSerials.Add(serial);
        }

        if (Record.SupersededSerials.Count > MaxSupersededSerials)
        {
            Record.SupersededSerials.RemoveRange(0, Record.SupersededSerials.Count - MaxSupersededSerials);
        }
    }

    private void AddEvent(string kind, string severity, string message)
    {
        Record.Events.Add(new ServerEvent(time.GetUtcNow(), kind, severity, message));
        if (Record.Events.Count > MaxEvents)
        {
            Record.Events.RemoveRange(0, Record.Events.Count - MaxEvents);
        }
    }

    /// <summary>The first 16 hex digits of a serial: enough to tell certificates apart in messages.</summary>
    private static string Short(string serial) => serial.Length <= 16 ? serial : serial[..16];

    [LoggerMessage(EventId = 1054, Level = LogLevel.Warning, Message = "Server {ServerId}: refused certificate {Serial} from {Remote} (replaced, revoked or unknown): possible cloned agent")]
    private static partial void LogCertificateRefused(ILogger logger, string serverId, string serial, string remote);
}
