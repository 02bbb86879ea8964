using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests;

/// <summary>
/// One current certificate per server: a renewal's certificate becomes current at its first use, re-enrolment and
/// revocation supersede every earlier certificate at once, and a superseded one is refused with an event.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AgentCertificateTests(ClusterFixture fixture)
{
    private TestCluster Cluster => fixture.Cluster;

    private static AgentCertificate Cert(string serial) => new(serial, DateTimeOffset.UtcNow.AddDays(7), "CN=test CA");

    private async Task<IManagedServerGrain> CreateAsync()
    {
        var id = "srv-" + Guid.NewGuid().ToString("N")[..16];
        var grain = Cluster.Client.GetGrain<IManagedServerGrain>(id);
        await grain.CreateAsync(new ServerDefinition("certs-" + id[4..12], ServerKind.Dns, "127.0.0.1", "Debian 12", AgentRuntime.Exec, CommunicationMode.Push, string.Empty, "u-certs-" + id[4..12]));
        return grain;
    }

    [Fact]
    public async Task A_renewed_certificate_replaces_the_old_one_at_its_first_use()
    {
        var grain = await CreateAsync();
        await grain.RecordCertificateAsync(Cert("AA01"));
        Assert.Equal(AgentAuthorization.Allowed, await grain.AuthorizeAgentAsync("AA01"));

        await grain.RecordCertificateAsync(Cert("AA02"), renewedFrom: "AA01");
        Assert.Equal(AgentAuthorization.Allowed, await grain.AuthorizeAgentAsync("AA01")); // the agent has not switched yet
        Assert.Equal(AgentAuthorization.AllowedFirstUse, await grain.AuthorizeAgentAsync("AA02"));

        // A renewal whose answer was lost: a second one from the same certificate replaces the unused one.
        var aa03 = Cert("AA03");
        await grain.RecordCertificateAsync(aa03, renewedFrom: "AA01");
        Assert.Equal(AgentAuthorization.Superseded, await grain.AuthorizeAgentAsync("AA02"));

        await grain.PromoteCertificateAsync("AA03");
        Assert.Equal(AgentAuthorization.Allowed, await grain.AuthorizeAgentAsync("AA03"));
        Assert.Equal(AgentAuthorization.Allowed, await grain.AuthorizeAgentAsync("AA01")); // a short grace for requests on their way

        // Only the current certificate may renew.
        await Assert.ThrowsAsync<ConflictException>(() => grain.RecordCertificateAsync(Cert("AA04"), renewedFrom: "AA01"));
        await Assert.ThrowsAsync<ConflictException>(() => grain.RecordCertificateAsync(Cert("AA04"), renewedFrom: "AA02"));

        var events = await grain.GetEventsAsync();
        Assert.Equal([ServerEventKinds.Enrolled, ServerEventKinds.CertificateRenewed], events.Select(e => e.Kind));
        Assert.Equal(aa03.NotAfter, (await grain.GetAsync())!.CertificateNotAfter);
        Assert.Equal("CN=test CA", (await grain.GetAsync())!.CertificateIssuer);
    }

    [Fact]
    public async Task Re_enrolment_and_revocation_refuse_every_earlier_certificate_at_once()
    {
        var grain = await CreateAsync();
        await grain.RecordCertificateAsync(Cert("BB01"));
        await grain.RecordCertificateAsync(Cert("BB02"), renewedFrom: "BB01");

        // The real agent enrols again (its host was rebuilt, or a copy is suspected): both earlier certificates are out.
        await grain.RecordCertificateAsync(Cert("BB03"));
        Assert.Equal(AgentAuthorization.Superseded, await grain.AuthorizeAgentAsync("BB01"));
        Assert.Equal(AgentAuthorization.Superseded, await grain.AuthorizeAgentAsync("BB02"));
        Assert.Equal(AgentAuthorization.Allowed, await grain.AuthorizeAgentAsync("BB03"));
        Assert.Equal(AgentAuthorization.Unknown, await grain.AuthorizeAgentAsync("FFFF"));

        // A refused certificate raises one event, not one per request.
        await grain.ReportRefusedCertificateAsync("BB01", "192.0.2.7");
        await grain.ReportRefusedCertificateAsync("BB01", "192.0.2.7");
        var refused = (await grain.GetEventsAsync()).Where(e => e.Kind == ServerEventKinds.CertificateRefused).ToList();
        var only = Assert.Single(refused);
        Assert.Contains("possible cloned agent", only.Message, StringComparison.Ordinal);
        Assert.Contains("192.0.2.7", only.Message, StringComparison.Ordinal);
        Assert.Equal("warning", only.Severity);

        RequestContext.Set(Caller.Key, "admin");
        Assert.Equal(1, await grain.RevokeCertificatesAsync());
        RequestContext.Clear();
        Assert.Equal(AgentAuthorization.Superseded, await grain.AuthorizeAgentAsync("BB03"));
        Assert.Null((await grain.GetAsync())!.CertificateNotAfter);
        var revoked = (await grain.GetEventsAsync())[^1];
        Assert.Equal(ServerEventKinds.CertificateRevoked, revoked.Kind);
        Assert.Contains("by admin", revoked.Message, StringComparison.Ordinal);

        // Deleted: nothing speaks for it.
        await grain.DeleteAsync();
        Assert.Equal(AgentAuthorization.NoServer, await grain.AuthorizeAgentAsync("BB03"));
    }
}
