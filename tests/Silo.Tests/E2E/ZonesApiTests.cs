using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>/api/v1/zones end to end through a real silo, on each storage mode.</summary>
public abstract class ZonesApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ms-zones-" + Guid.NewGuid().ToString("N")[..10]);
    private SiloProcess _silo = null!;

    protected abstract IDictionary<string, string> StorageArgs { get; }

    protected virtual Task CleanupStorageAsync() => Task.CompletedTask;

    private HttpClient Http => _silo.Http;

    private string Url(string path) => _silo.BaseUrl + "/api/v1/zones" + path;

    public async Task InitializeAsync()
    {
        _silo = new SiloProcess(Path.Combine(_dir, "silo"), StorageArgs);
        await _silo.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await CleanupStorageAsync();
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }

    private static string ZoneFile(string zone, string extra = "") =>
        $"$ORIGIN {zone}.\n$TTL 300\n@ SOA ns1 hostmaster 10 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n{extra}";

    private async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task Zone_lifecycle_through_the_api()
    {
        using (var created = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest("Example.Test.", ZoneFile("example.test")), ContractsJson.WireOptions))
        {
            var zone = await JsonAsync(created, HttpStatusCode.Created);
            Assert.Equal("/api/v1/zones/example.test", created.Headers.Location?.OriginalString);
            Assert.Equal("example.test", zone.GetProperty("name").GetString());
            Assert.Equal(10, zone.GetProperty("serial").GetInt64());
            Assert.Equal(3, zone.GetProperty("record_count").GetInt32());
        }

        using (var again = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest("example.test"), ContractsJson.WireOptions))
        {
            await JsonAsync(again, HttpStatusCode.Conflict);
        }

        using (var minimal = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest("minimal.test", PrimaryNs: "ns.example.test"), ContractsJson.WireOptions))
        {
            await JsonAsync(minimal, HttpStatusCode.Created);
        }

        using (var bad = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest("bad.test", ZoneFile("bad.test", "www A 300.1.1.1\nx -1 A 192.0.2.1\n")), ContractsJson.WireOptions))
        {
            var problem = await JsonAsync(bad, HttpStatusCode.BadRequest);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
            var messages = problem.GetProperty("errors").GetProperty("zone_file").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Equal(["line 6: A record 'www': '300.1.1.1' is not an IPv4 address", "line 7: bad TTL '-1': a TTL cannot be negative"], messages);
        }

        using (var badName = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest("not a name!"), ContractsJson.WireOptions))
        {
            Assert.True((await JsonAsync(badName, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("name", out _));
        }

        using (var missing = await Http.GetAsync(Url("/bad.test")))
        {
            await JsonAsync(missing, HttpStatusCode.NotFound);
        }

        // Listing from the catalog.
        var list = await JsonAsync(await Http.GetAsync(Url("?q=.test&sort=-name&per_page=1")), HttpStatusCode.OK);
        Assert.Equal(2, list.GetProperty("total").GetInt32());
        Assert.Equal("minimal.test", list.GetProperty("items")[0].GetProperty("name").GetString());

        // Records: add, list, get, update, delete; each bumps the serial.
        using var add = await Http.PostAsJsonAsync(Url("/example.test/records"), new ZoneRecordRequest("www", "A", 60, "192.0.2.80"), ContractsJson.WireOptions);
        var change = await JsonAsync(add, HttpStatusCode.Created);
        Assert.Equal(11, change.GetProperty("serial").GetInt64());
        var id = change.GetProperty("record").GetProperty("id").GetString()!;
        Assert.EndsWith($"/records/{id}", add.Headers.Location?.OriginalString, StringComparison.Ordinal);

        using (var badRecord = await Http.PostAsJsonAsync(Url("/example.test/records"), new ZoneRecordRequest("www", "AAAA", 5_000_000_000, "nope"), ContractsJson.WireOptions))
        {
            var errors = (await JsonAsync(badRecord, HttpStatusCode.BadRequest)).GetProperty("errors");
            Assert.True(errors.TryGetProperty("ttl", out _), errors.ToString());
        }

        var records = await JsonAsync(await Http.GetAsync(Url("/example.test/records?type=A&per_page=10")), HttpStatusCode.OK);
        Assert.Equal(2, records.GetProperty("total").GetInt32());
        var one = await JsonAsync(await Http.GetAsync(Url($"/example.test/records/{id}")), HttpStatusCode.OK);
        Assert.Equal("www.example.test.", one.GetProperty("name").GetString());

        using var put = await Http.PutAsJsonAsync(Url($"/example.test/records/{id}"), new ZoneRecordRequest("www", "A", 60, "192.0.2.81"), ContractsJson.WireOptions);
        var updated = await JsonAsync(put, HttpStatusCode.OK);
        Assert.Equal(12, updated.GetProperty("serial").GetInt64());
        var newId = updated.GetProperty("record").GetProperty("id").GetString();

        var deleted = await JsonAsync(await Http.DeleteAsync(Url($"/example.test/records/{newId}")), HttpStatusCode.OK);
        Assert.Equal(13, deleted.GetProperty("serial").GetInt64());

        // Replace the file, then export it.
        using var replace = await Http.PutAsJsonAsync(Url("/example.test/file"), new ZoneFileRequest(ZoneFile("example.test", "mail MX 10 mx.other.test.\n")), ContractsJson.WireOptions);
        Assert.Equal(14, (await JsonAsync(replace, HttpStatusCode.OK)).GetProperty("serial").GetInt64());
        using var export = await Http.GetAsync(Url("/example.test/export"));
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("text/dns", export.Content.Headers.ContentType?.MediaType);
        Assert.Equal("example.test.zone", export.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var text = await export.Content.ReadAsStringAsync();
        Assert.StartsWith("$ORIGIN example.test.\n$TTL 300\n@\t300\tIN\tSOA\tns1.example.test. hostmaster.example.test. 14 ", text, StringComparison.Ordinal);
        Assert.Contains("mail\t300\tIN\tMX\t10 mx.other.test.", text, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync(Url("/example.test"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync(Url("/example.test"))).StatusCode);
    }

    [Fact]
    public async Task One_zone_is_assigned_to_a_server_or_unassigned_keeping_the_others()
    {
        foreach (var zone in new[] { "demo.test", "example.test" })
        {
            using var created = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest(zone, ZoneFile(zone)), ContractsJson.WireOptions);
            await JsonAsync(created, HttpStatusCode.Created);
        }

        var server = await _silo.CreateServerAsync("assign-dns");
        var zones = $"{_silo.BaseUrl}/api/v1/servers/{server.Id}/zones";
        static List<string?> Names(JsonElement view) => [.. view.GetProperty("zones").EnumerateArray().Select(z => z.GetProperty("zone").GetString())];

        using (var set = await Http.PutAsJsonAsync(zones, new[] { "demo.test" }, ContractsJson.WireOptions))
        {
            Assert.Equal(["demo.test"], Names(await JsonAsync(set, HttpStatusCode.OK)));
        }

        // Adding one keeps the others; twice is the same; the name is normalised.
        Assert.Equal(["demo.test", "example.test"], Names(await JsonAsync(await Http.PostAsync($"{zones}/Example.Test.", null), HttpStatusCode.OK)));
        Assert.Equal(["demo.test", "example.test"], Names(await JsonAsync(await Http.PostAsync($"{zones}/example.test", null), HttpStatusCode.OK)));

        // A zone that does not exist: 404 naming it; a bad name: 400 naming the field; nothing changes.
        using (var missing = await Http.PostAsync($"{zones}/nowhere.test", null))
        {
            var problem = await JsonAsync(missing, HttpStatusCode.NotFound);
            Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
            Assert.Contains("nowhere.test", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.True((await JsonAsync(await Http.PostAsync($"{zones}/bad_name!", null), HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("zone", out _));
        Assert.Contains("nowhere.test", (await JsonAsync(await Http.DeleteAsync($"{zones}/nowhere.test"), HttpStatusCode.NotFound)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Removing one keeps the others; twice is the same.
        Assert.Equal(["example.test"], Names(await JsonAsync(await Http.DeleteAsync($"{zones}/demo.test"), HttpStatusCode.OK)));
        Assert.Equal(["example.test"], Names(await JsonAsync(await Http.DeleteAsync($"{zones}/demo.test"), HttpStatusCode.OK)));
        Assert.Equal(["example.test"], Names(await JsonAsync(await Http.GetAsync(zones), HttpStatusCode.OK)));

        // The same through msctl: --add keeps the zone assigned already.
        var (code, output) = await Msctl.RunAsync(_silo, _dir, true, "servers", "zones", "assign-dns", "--add", "demo.test");
        Assert.True(code == 0, output);
        Assert.Equal(["demo.test", "example.test"], Names(await JsonAsync(await Http.GetAsync(zones), HttpStatusCode.OK)));
        (code, output) = await Msctl.RunAsync(_silo, _dir, true, "servers", "zones", "assign-dns", "--remove", "nowhere.test");
        Assert.Equal(1, code);
        Assert.StartsWith("error: Not found: zone 'nowhere.test' not found", output.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Warnings_travel_beside_the_success_of_an_import()
    {
        using var created = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest("warn.test", ZoneFile("warn.test", "@ NS ns2\nwww HINFO PC Linux\n")), ContractsJson.WireOptions);
        var zone = await JsonAsync(created, HttpStatusCode.Created);
        Assert.Equal(
            ["line 6: NS record '@': its name server ns2.warn.test. is inside the zone but has no A or AAAA record (missing glue): Knot loads the zone, its optional checks (kzonecheck) report it"],
            zone.GetProperty("warnings").EnumerateArray().Select(e => e.GetString()));
        Assert.False(zone.GetProperty("warnings_truncated").GetBoolean());
        Assert.Equal(5, zone.GetProperty("record_count").GetInt32());

        using var replaced = await Http.PutAsJsonAsync(Url("/warn.test/file"), new ZoneFileRequest(ZoneFile("warn.test")), ContractsJson.WireOptions);
        Assert.Empty((await JsonAsync(replaced, HttpStatusCode.OK)).GetProperty("warnings").EnumerateArray());
    }

    [Fact]
    public async Task The_root_zone_is_at_and_a_classless_zone_is_percent_2F_in_urls()
    {
        const string root = "$ORIGIN .\n$TTL 86400\n. SOA a.root-servers.net. hm.example. 1 1800 900 604800 86400\n. NS a.root-servers.net.\na.root-servers.net. A 198.41.0.4\n";
        using (var created = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest(".", root), ContractsJson.WireOptions))
        {
            var zone = await JsonAsync(created, HttpStatusCode.Created);
            Assert.Equal(".", zone.GetProperty("name").GetString());
            Assert.Equal("/api/v1/zones/@", created.Headers.Location?.OriginalString);
        }

        Assert.Equal(".", (await JsonAsync(await Http.GetAsync(Url("/@")), HttpStatusCode.OK)).GetProperty("name").GetString());
        using (var add = await Http.PostAsJsonAsync(Url("/@/records"), new ZoneRecordRequest("com.", "NS", null, "a.gtld-servers.net."), ContractsJson.WireOptions))
        {
            Assert.Equal("com.", (await JsonAsync(add, HttpStatusCode.Created)).GetProperty("record").GetProperty("name").GetString());
        }

        Assert.StartsWith("$ORIGIN .\n", await Http.GetStringAsync(Url("/@/export")), StringComparison.Ordinal);

        const string classless = "$ORIGIN 0/25.2.0.192.in-addr.arpa.\n@ SOA ns1.example. hm.example. 1 2 3 4 5\n@ NS ns1.example.\n1 PTR host.example.\n";
        using (var created = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest("0/25.2.0.192.in-addr.arpa.", classless), ContractsJson.WireOptions))
        {
            Assert.Equal("0/25.2.0.192.in-addr.arpa", (await JsonAsync(created, HttpStatusCode.Created)).GetProperty("name").GetString());
            Assert.Equal("/api/v1/zones/0%2F25.2.0.192.in-addr.arpa", created.Headers.Location?.OriginalString);
        }

        var records = await JsonAsync(await Http.GetAsync(Url("/0%2F25.2.0.192.in-addr.arpa/records?type=PTR")), HttpStatusCode.OK);
        Assert.Equal("1.0/25.2.0.192.in-addr.arpa.", records.GetProperty("items")[0].GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync(Url("/0%2f25.2.0.192.in-addr.arpa"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync(Url("/@"))).StatusCode);

        // An empty name is required; '.' is the root zone, not an empty name.
        using var empty = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest(" "), ContractsJson.WireOptions);
        var errors = (await JsonAsync(empty, HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("name");
        Assert.Equal("is required: a domain name such as example.com (the root zone is '.')", errors[0].GetString());
    }

    [Fact]
    public async Task The_openapi_document_names_the_zone_routes()
    {
        var document = await Http.GetStringAsync(_silo.BaseUrl + "/api/v1/openapi.json");
        foreach (var name in new[] { "ListZones", "CreateZone", "GetZone", "DeleteZone", "ReplaceZoneFile", "ExportZone", "ListZoneRecords", "AddZoneRecord", "GetZoneRecord", "UpdateZoneRecord", "DeleteZoneRecord" })
        {
            Assert.Contains($"\"operationId\": \"{name}\"", document, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Reads_need_a_token_and_writes_need_write()
    {
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(Url(string.Empty))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest("x.test"), ContractsJson.WireOptions)).StatusCode);
    }

    [Fact]
    public async Task A_million_record_zone_imports_end_to_end()
    {
        var sb = new StringBuilder(35_000_000).Append(ZoneFile("big.test"));
        for (var i = 0; i < 999_997; i++)
        {
            sb.Append('h').Append(i).Append(" A 10.").Append((i >> 16) & 255).Append('.').Append((i >> 8) & 255).Append('.').Append(i & 255).Append('\n');
        }

        var clock = Stopwatch.StartNew();
        using var created = await Http.PostAsJsonAsync(Url(string.Empty), new CreateZoneRequest("big.test", sb.ToString()), ContractsJson.WireOptions);
        var zone = await JsonAsync(created, HttpStatusCode.Created);
        var import = clock.Elapsed;
        Assert.Equal(1_000_000, zone.GetProperty("record_count").GetInt32());

        clock.Restart();
        using var export = await Http.GetAsync(Url("/big.test/export"));
        var text = await export.Content.ReadAsStringAsync();
        var exportTime = clock.Elapsed;
        Assert.Equal(zone.GetProperty("size").GetInt64(), Encoding.UTF8.GetByteCount(text));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"1M-record import through the API: {import.TotalSeconds:F2} s (gzip {zone.GetProperty("gzip_size").GetInt64() / 1e6:F1} MB of {zone.GetProperty("size").GetInt64() / 1e6:F1} MB); export {exportTime.TotalSeconds:F2} s"));
        Assert.True(import < TimeSpan.FromSeconds(30), $"import took {import}"); // a liveness bound on a shared machine; the figure is printed
    }
}

/// <summary>The embedded default: SQLite.</summary>
public sealed class SqliteZonesApiTests(ITestOutputHelper output) : ZonesApiTests(output)
{
    protected override IDictionary<string, string> StorageArgs { get; } = new Dictionary<string, string>();
}

/// <summary>Cluster mode: PostgreSQL grain storage.</summary>
public sealed class PostgresZonesApiTests(ITestOutputHelper output) : ZonesApiTests(output)
{
    private readonly string _database = TestPostgres.NewDatabaseName("ms_zones_");

    protected override IDictionary<string, string> StorageArgs => new Dictionary<string, string>
    {
        ["ConnectionStrings:Postgres"] = TestPostgres.ConnectionString(_database),
        ["Orleans:ClusterId"] = _database,
    };

    protected override Task CleanupStorageAsync() => TestPostgres.DropAsync(_database);
}
