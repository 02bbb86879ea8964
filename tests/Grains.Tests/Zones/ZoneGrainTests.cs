using ManagedServers.Grains.Interfaces.Zones;
using Orleans;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests.Zones;

[Collection(ClusterCollection.Name)]
public sealed class ZoneGrainTests(ClusterFixture fixture)
{
    private TestCluster Cluster => fixture.Cluster;

    private static string NewZone() => $"z{Guid.NewGuid():N}"[..13] + ".test";

    private static string File(string zone, uint serial, string extra = "") =>
        $"$ORIGIN {zone}.\n$TTL 300\n@ SOA ns1 hostmaster {serial} 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n{extra}";

    private IZoneGrain Zone(string name) => Cluster.Client.GetGrain<IZoneGrain>(name);

    [Fact]
    public async Task Every_change_bumps_the_serial()
    {
        var name = NewZone();
        var zone = Zone(name);
        var created = (await zone.CreateAsync(new ZoneCreate(File(name, 100)))).Zone;
        Assert.Equal(100, created.Serial);
        Assert.Equal(3, created.RecordCount);

        var added = await zone.AddRecordAsync(new ZoneRecordInput("www", "A", 60, "192.0.2.80"));
        Assert.Equal(101, added.Serial);
        Assert.Equal($"www.{name}.", added.Record.Name);
        Assert.Equal(60, added.Record.Ttl);

        var updated = await zone.UpdateRecordAsync(added.Record.Id, new ZoneRecordInput("www", "A", null, "192.0.2.81"));
        Assert.Equal(102, updated.Serial);
        Assert.Equal(300, updated.Record.Ttl); // the SOA's TTL by default
        Assert.Null(await zone.GetRecordAsync(added.Record.Id));
        Assert.Equal("192.0.2.81", (await zone.GetRecordAsync(updated.Record.Id))!.Data);

        Assert.Equal(103, await zone.DeleteRecordAsync(updated.Record.Id));

        // Re-import: a lower serial in the file → current + 1; a higher one is kept.
        Assert.Equal(104, (await zone.ReplaceAsync(File(name, 5))).Zone.Serial);
        Assert.Equal(2024010101, (await zone.ReplaceAsync(File(name, 2024010101))).Zone.Serial);

        var text = await zone.ExportAsync();
        Assert.Contains("2024010101", text, StringComparison.Ordinal);
        var blob = (await zone.GetFileAsync())!;
        Assert.Equal(2024010101, blob.Serial);
        Assert.Equal(text, Grains.Zones.ZoneText.Unpack(blob.Gzip));
    }

    [Fact]
    public async Task Validation_refuses_and_changes_nothing()
    {
        var name = NewZone();
        var zone = Zone(name);
        var bad = await Assert.ThrowsAsync<ZoneValidationException>(() => zone.CreateAsync(new ZoneCreate(File(name, 1, "www A 300.1.1.1\nwww CNAME x.test.\n"))));
        Assert.Equal(["line 6: A record 'www': '300.1.1.1' is not an IPv4 address"], bad.Errors.Select(e => e.ToString()));
        Assert.Null(await zone.GetSummaryAsync());

        await zone.CreateAsync(new ZoneCreate(File(name, 1, "www A 192.0.2.80\n")));
        var before = await zone.GetSummaryAsync();

        bad = await Assert.ThrowsAsync<ZoneValidationException>(() => zone.ReplaceAsync(File(name, 9, "www A 192.0.2.80\nwww CNAME x.test.\n")));
        Assert.StartsWith("line 7: CNAME 'www' beside other data", bad.Errors.Single().ToString(), StringComparison.Ordinal);

        var field = await Assert.ThrowsAsync<ZoneValidationException>(() => zone.AddRecordAsync(new ZoneRecordInput("www", "CNAME", null, "x.test.")));
        Assert.Equal("type", field.Errors.Single().Field);
        field = await Assert.ThrowsAsync<ZoneValidationException>(() => zone.AddRecordAsync(new ZoneRecordInput("www", "AAAA", null, "nope")));
        Assert.Equal("data", field.Errors.Single().Field);
        await Assert.ThrowsAsync<ConflictException>(() => zone.AddRecordAsync(new ZoneRecordInput("www", "A", null, "192.0.2.80")));
        await Assert.ThrowsAsync<ConflictException>(() => zone.CreateAsync(new ZoneCreate(null)));

        var ns = (await zone.ListRecordsAsync(new ZoneRecordQuery("@", "NS", 0, 10))).Items.Single();
        var last = await Assert.ThrowsAsync<ZoneValidationException>(() => zone.DeleteRecordAsync(ns.Id));
        Assert.Contains("at least one NS", last.Errors.Single().Message, StringComparison.Ordinal);

        Assert.Equal(before, await zone.GetSummaryAsync());
    }

    [Fact]
    public async Task Minimal_zone_survives_deactivation_and_lists_from_the_catalog()
    {
        var name = NewZone();
        var zone = Zone(name);
        var created = (await zone.CreateAsync(new ZoneCreate(null, Email: "dns.admin@example.org", DefaultTtl: 600))).Zone;
        Assert.Equal(2, created.RecordCount);
        await zone.AddRecordAsync(new ZoneRecordInput("@", "MX", null, "10 mail"));
        var summary = await zone.GetSummaryAsync();

        await Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        Assert.Equal(summary, await zone.GetSummaryAsync());
        var text = (await zone.ExportAsync())!;
        Assert.Contains($"@\t600\tIN\tSOA\tns1.{name}. dns\\.admin.example.org. ", text, StringComparison.Ordinal);
        Assert.Contains($"\t600\tIN\tMX\t10 mail.{name}.", text, StringComparison.Ordinal);
        var records = await zone.ListRecordsAsync(new ZoneRecordQuery(null, null, 0, 100));
        Assert.Equal(3, records.Total);

        var shards = await ZoneCatalog.AskAllAsync(Cluster.Client, s => s.QueryAsync(new ZoneQuery(name, ZoneSort.Name, false, 10)));
        Assert.Equal(summary, shards.SelectMany(s => s.Items).Single());

        await zone.DeleteAsync();
        Assert.Null(await zone.GetSummaryAsync());
        shards = await ZoneCatalog.AskAllAsync(Cluster.Client, s => s.QueryAsync(new ZoneQuery(name, ZoneSort.Name, false, 10)));
        Assert.Empty(shards.SelectMany(s => s.Items));
        await Assert.ThrowsAsync<NotFoundException>(() => zone.DeleteAsync());
    }

    [Fact]
    public async Task A_large_zone_is_stored_and_read_back_from_sqlite()
    {
        var name = NewZone();
        var zone = Zone(name);
        var text = File(name, 1, string.Concat(Enumerable.Range(0, 200_000).Select(i => $"h{i} A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}\n")));
        var created = (await zone.CreateAsync(new ZoneCreate(text))).Zone;
        Assert.Equal(200_003, created.RecordCount);

        await Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        Assert.Equal(created, await zone.GetSummaryAsync());
        var change = await zone.AddRecordAsync(new ZoneRecordInput("new", "TXT", null, "\"hello\""));
        Assert.Equal(2, change.Serial);
        Assert.Equal(1, (await zone.ListRecordsAsync(new ZoneRecordQuery("h199999", "A", 0, 10))).Total);
    }

    [Fact]
    public async Task An_import_returns_its_warnings_beside_the_zone()
    {
        var name = NewZone();
        var imported = await Zone(name).CreateAsync(new ZoneCreate(File(name, 1, "@ NS ns2\nwww 60 A 192.0.2.1\nwww 120 A 192.0.2.2\n")));
        Assert.Equal(6, imported.Zone.RecordCount);
        Assert.Equal(
            [$"line 6: NS record '@': its name server ns2.{name}. is inside the zone but has no A or AAAA record (missing glue): Knot loads the zone, its optional checks (kzonecheck) report it",
             "line 7: A record set 'www': TTL 60 here, 120 on line 8: a record set has one TTL, Knot uses the last one (120); stored with 120"],
            imported.Warnings.Select(w => w.ToString()));
        Assert.Empty((await Zone(name).ReplaceAsync(File(name, 2))).Warnings);
    }

    [Fact]
    public async Task Record_changes_keep_dname_rules_and_one_ttl_per_record_set()
    {
        var name = NewZone();
        var zone = Zone(name);
        await zone.CreateAsync(new ZoneCreate(File(name, 1, "old DNAME new.example.\nhost A 192.0.2.1\n")));

        var below = await Assert.ThrowsAsync<ZoneValidationException>(() => zone.AddRecordAsync(new ZoneRecordInput("x.old", "A", null, "192.0.2.2")));
        Assert.Equal(("name", "'x.old' is below the DNAME at 'old': nothing can be below a DNAME (RFC 6672 §2.4)"), (below.Errors.Single().Field, below.Errors.Single().Message));
        var second = await Assert.ThrowsAsync<ZoneValidationException>(() => zone.AddRecordAsync(new ZoneRecordInput("old", "DNAME", null, "other.example.")));
        Assert.Contains("has a DNAME already", second.Errors.Single().Message, StringComparison.Ordinal);
        await zone.AddRecordAsync(new ZoneRecordInput("a.b", "A", null, "192.0.2.3"));
        var above = await Assert.ThrowsAsync<ZoneValidationException>(() => zone.AddRecordAsync(new ZoneRecordInput("b", "DNAME", null, "other.example.")));
        Assert.Contains("'b' has names below it (a.b)", above.Errors.Single().Message, StringComparison.Ordinal);

        // A record set has one TTL: a new TTL moves the whole set, no TTL takes the set's.
        await zone.AddRecordAsync(new ZoneRecordInput("host", "A", 60, "192.0.2.4"));
        var inherited = await zone.AddRecordAsync(new ZoneRecordInput("host", "A", null, "192.0.2.5"));
        Assert.Equal(60, inherited.Record.Ttl);
        var set = await zone.ListRecordsAsync(new ZoneRecordQuery("host", "A", 0, 10));
        Assert.Equal([60, 60, 60], set.Items.Select(r => r.Ttl));
    }

    [Theory]
    [InlineData(".", "$ORIGIN .\n. SOA a.root-servers.net. hm. 1 2 3 4 5\n. NS a.root-servers.net.\na.root-servers.net. A 198.41.0.4\n")]
    [InlineData("0/25.2.0.192.in-addr.arpa", "$ORIGIN 0/25.2.0.192.in-addr.arpa.\n@ SOA ns1.example. hm.example. 1 2 3 4 5\n@ NS ns1.example.\n1 PTR host.example.\n")]
    public async Task The_root_zone_and_classless_reverse_zones_are_zones(string name, string text)
    {
        var zone = Zone(name);
        try
        {
            var created = await zone.CreateAsync(new ZoneCreate(text));
            Assert.Equal(name, created.Zone.Name);
            var added = await zone.AddRecordAsync(new ZoneRecordInput("x", "TXT", null, "\"added\""));
            Assert.Equal(name == "." ? "x." : $"x.{name}.", added.Record.Name);
            Assert.Contains(ZoneNames.Apex(name), (await zone.ExportAsync())!, StringComparison.Ordinal);
        }
        finally
        {
            await zone.DeleteAsync();
        }
    }
}
