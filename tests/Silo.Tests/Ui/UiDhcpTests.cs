using System.Net;
using System.Text;
using ManagedServers.Silo.Tests.E2E;
using Microsoft.Playwright;

namespace ManagedServers.Silo.Tests.Ui;

/// <summary>
/// A DHCP server's page in headless chromium against a real silo, a real agent and a real Kea: an imported configuration
/// shown per family (subnets with their pools, reservations and utilisation, shared networks, classes, global options)
/// with the review's findings beside the objects they name; a pool refused by the API (the field's message), then
/// added; a reservation refused then added; a pool removed (confirmed); the push followed server by server to
/// Succeeded; Kea's state; leases searched after real DHCP traffic. Screenshots land in TestResults/screenshots.
/// </summary>
public sealed class UiDhcpTests() : UiTestBase("ui-dhcp")
{
    // Subnet 1's reservation lies inside its pool: the review warns (reservation-in-pool) and the page shows it beside it.
    private const string Config = """
        { "Dhcp4": {
            "interfaces-config": { "interfaces": [ ] },
            "valid-lifetime": 4000,
            "hooks-libraries": [ { "library": "libdhcp_lease_cmds.so" }, { "library": "libdhcp_stat_cmds.so" } ],
            "option-data": [ { "name": "domain-name-servers", "data": "192.0.2.1" } ],
            "client-classes": [ { "name": "printers", "test": "substring(option[60].hex,0,7) == 'printer'" } ],
            "subnet4": [
                { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.100" } ],
                  "reservations": [ { "hw-address": "1a:1b:1c:1d:1e:1f", "ip-address": "192.0.2.20", "hostname": "printer" } ],
                  "option-data": [ { "name": "routers", "data": "192.0.2.1" } ] },
                { "id": 3, "subnet": "127.0.0.0/8", "pools": [ { "pool": "127.0.0.10 - 127.0.0.20" } ] } ],
            "shared-networks": [ { "name": "lab", "subnet4": [
                { "id": 2, "subnet": "198.51.100.0/24", "pools": [ { "pool": "198.51.100.10 - 198.51.100.20" } ] } ] } ] } }
        """;

    [Fact]
    public async Task A_dhcp_servers_page_shows_its_configuration_with_the_review_edits_pools_and_reservations_pushes_and_searches_leases()
    {
        using (var settings = await Silo.Http.PutAsync($"{Silo.BaseUrl}/api/v1/settings/monitoring", new StringContent("""{ "dhcp_interval_seconds": 2 }""", Encoding.UTF8, "application/json")))
        {
            Assert.True(settings.StatusCode == HttpStatusCode.OK, await settings.Content.ReadAsStringAsync());
        }

        var server = await Silo.CreateServerAsync("ui-dhcp-1", kind: "dhcp", runtime: "exec");
        var stateDir = await EnrolAsync(server.Id, "dhcp-state");
        using var agent = AgentProcess.RunVerbose(stateDir);
        await WaitRunningAsync(server.Id, agent);
        var port = Build.FreePort();
        var install = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", new AddServiceRequest("dhcp4", Port: port, Interfaces: ["lo"])), agent);
        Assert.True(install.State == "succeeded", $"install failed: {install.Error}\nagent:\n{agent.Output}");
        using (var content = new StringContent(Config, Encoding.UTF8, "application/json"))
        using (var response = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/dhcp/import", content))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        var page = await SignInAsync($"/servers/{server.Id}");
        await StepsAsync(page, "dhcp", async () =>
        {
            // From the server's page to its DHCP page (once its charts are drawn: a chart drawn after the page is left fails the circuit).
            await page.GetByTestId("charts-source").WaitForAsync(new() { Timeout = 30_000 });
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('[data-testid=chart]')].every(c => c.hidden || c.dataset.points)", null, new() { Timeout = 30_000 });
            await page.GetByTestId("dhcp-link").ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith($"/servers/{server.Id}/dhcp", StringComparison.Ordinal));
            await WaitInteractiveAsync(page);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("DHCP of ui-dhcp-1");

            // Subnets with their shared network, pools, reservations; the review's warning on subnet 1's row.
            var rows = page.GetByTestId("subnet-row");
            await Assertions.Expect(rows).ToHaveCountAsync(3);
            var subnet1 = page.Locator("[data-testid=subnet-row][data-subnet='1']");
            await Assertions.Expect(subnet1).ToContainTextAsync("192.0.2.0/24");
            await Assertions.Expect(subnet1.GetByTestId("subnet-review")).ToHaveTextAsync("1 warning");
            await Assertions.Expect(page.Locator("[data-testid=subnet-row][data-subnet='2']")).ToContainTextAsync("lab");
            await Assertions.Expect(page.GetByTestId("review-summary")).ToContainTextAsync("1 warning");
            await Assertions.Expect(page.GetByTestId("shared-networks")).ToContainTextAsync("lab");
            await Assertions.Expect(page.GetByTestId("classes")).ToContainTextAsync("printers");
            await Assertions.Expect(page.GetByTestId("global-options")).ToContainTextAsync("domain-name-servers");
            await Assertions.Expect(page.GetByTestId("ha-state")).ToContainTextAsync("None", new() { Timeout = 30_000 });
            await Assertions.Expect(page.GetByTestId("sockets")).ToHaveTextAsync("Ready");
            await Browser.ScreenshotAsync(page, "dhcp-01-subnets");

            // One subnet: the finding beside its reservation, its pools and options.
            await subnet1.GetByRole(AriaRole.Link).ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith("?family=4&subnet=1", StringComparison.Ordinal));
            var detail = page.GetByTestId("subnet-detail");
            await Assertions.Expect(detail.GetByRole(AriaRole.Heading, new() { Level = 2 })).ToHaveTextAsync("Subnet 1 (192.0.2.0/24)");
            var reservation = detail.GetByTestId("reservation-row");
            await Assertions.Expect(reservation).ToContainTextAsync("1a:1b:1c:1d:1e:1f");
            await Assertions.Expect(reservation.GetByTestId("finding")).ToContainTextAsync("reserves 192.0.2.20 inside pool 192.0.2.10 - 192.0.2.100");
            await Assertions.Expect(detail.GetByTestId("options")).ToContainTextAsync("routers");
            await Browser.ScreenshotAsync(page, "dhcp-02-subnet");
            Assert.Empty(await Axe.SeriousViolationsAsync(page));

            // A pool the API refuses: its message beside the field; one the review refuses (outside the subnet); then a good one.
            var poolInput = page.GetByLabel("New pool");
            var poolError = page.Locator(".mud-input-control", new() { Has = poolInput }).Locator(".mud-input-helper-text");
            await poolInput.FillAsync("192.0.2.300-192.0.2.310");
            await page.GetByTestId("add-pool").ClickAsync();
            await Assertions.Expect(poolError).ToContainTextAsync("is not an IPv4 pool");
            await Browser.ScreenshotAsync(page, "dhcp-03-pool-refused");
            await poolInput.FillAsync("10.0.0.1-10.0.0.5");
            await page.GetByTestId("add-pool").ClickAsync();
            await Assertions.Expect(poolError).ToContainTextAsync("not inside 192.0.2.0/24");
            await poolInput.FillAsync("192.0.2.150-192.0.2.160");
            await page.GetByTestId("add-pool").ClickAsync();
            await Assertions.Expect(detail.GetByTestId("pool-row")).ToHaveCountAsync(2);
            await Assertions.Expect(detail.GetByTestId("pools")).ToContainTextAsync("192.0.2.150");

            // A reservation with a bad MAC address: the message beside the identifier; then a good one.
            var identifier = page.GetByLabel("Identifier");
            await identifier.FillAsync("not-a-mac");
            await page.GetByLabel("IP address").FillAsync("192.0.2.200");
            await page.GetByTestId("add-reservation").ClickAsync();
            await Assertions.Expect(page.Locator(".mud-input-control", new() { Has = identifier }).Locator(".mud-input-helper-text")).ToContainTextAsync("is not a MAC address");
            await identifier.FillAsync("2a:2b:2c:2d:2e:2f");
            await page.GetByLabel("Host name").FillAsync("camera");
            await page.GetByTestId("add-reservation").ClickAsync();
            await Assertions.Expect(detail.GetByTestId("reservation-row")).ToHaveCountAsync(2);
            await Assertions.Expect(detail.GetByTestId("reservations")).ToContainTextAsync("camera");
            await Browser.ScreenshotAsync(page, "dhcp-04-added");

            // Removing the new pool asks first.
            await page.GetByRole(AriaRole.Button, new() { Name = "Remove pool 192.0.2.150-192.0.2.160" }).ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Remove", Exact = true }).ClickAsync();
            await Assertions.Expect(detail.GetByTestId("pool-row")).ToHaveCountAsync(1);

            // A subnet: a bad prefix named beside its field, then added, then removed (confirmed).
            await page.GetByLabel("Subnet id", new() { Exact = true }).FillAsync("4");
            await page.GetByLabel("Prefix", new() { Exact = true }).FillAsync("203.0.113.0/33");
            await page.GetByTestId("add-subnet").ClickAsync();
            await Assertions.Expect(page.Locator(".mud-input-control", new() { Has = page.GetByLabel("Prefix", new() { Exact = true }) }).Locator(".mud-input-helper-text")).ToContainTextAsync("is not an IPv4 prefix");
            await page.GetByLabel("Prefix", new() { Exact = true }).FillAsync("203.0.113.0/24");
            await page.GetByLabel("Pools", new() { Exact = true }).FillAsync("203.0.113.10-203.0.113.20");
            await page.GetByTestId("add-subnet").ClickAsync();
            await Assertions.Expect(rows).ToHaveCountAsync(4);
            await page.Locator("[data-testid=subnet-row][data-subnet='4']").GetByRole(AriaRole.Link).ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith("&subnet=4", StringComparison.Ordinal));
            await page.GetByTestId("remove-subnet").ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Remove", Exact = true }).ClickAsync();
            await Assertions.Expect(rows).ToHaveCountAsync(3);
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/dhcp\\?family=4$"));

            // A client class added, another removed (confirmed); a global option the review refuses, then one it takes.
            await page.GetByLabel("Class name").FillAsync("cameras");
            await page.GetByLabel("Test expression").FillAsync("option[60].text == 'camera'");
            await page.GetByTestId("class-form").GetByRole(AriaRole.Button, new() { Name = "Add" }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("classes")).ToContainTextAsync("cameras");
            await page.GetByRole(AriaRole.Button, new() { Name = "Remove client class printers" }).ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Remove", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("classes")).Not.ToContainTextAsync("printers");
            await page.GetByLabel("Option name").FillAsync("routers");
            await page.GetByLabel("Value", new() { Exact = true }).FillAsync("not-an-address");
            await page.GetByTestId("add-option").ClickAsync();
            await Assertions.Expect(page.Locator(".mud-input-control", new() { Has = page.GetByLabel("Value", new() { Exact = true }) }).Locator(".mud-input-helper-text")).ToContainTextAsync("option routers of the global scope");
            await page.GetByLabel("Value", new() { Exact = true }).FillAsync("192.0.2.1");
            await page.GetByTestId("add-option").ClickAsync();
            await Assertions.Expect(page.GetByTestId("global-options").GetByTestId("options")).ToContainTextAsync("routers");
            await Browser.ScreenshotAsync(page, "dhcp-05-classes-options");

            // Push: the warning acknowledged, confirmed, followed to this server's result.
            await page.GetByTestId("acknowledge").ClickAsync();
            await page.GetByTestId("push").ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Push", Exact = true }).ClickAsync();
            var result = page.GetByTestId("operation-server");
            await Assertions.Expect(result).ToContainTextAsync("ui-dhcp-1");
            await Assertions.Expect(page.GetByTestId("operation-state")).ToHaveTextAsync("Succeeded", new() { Timeout = 90_000 });
            await Assertions.Expect(result.GetByTestId("server-result")).ToHaveTextAsync("Succeeded");
            await Browser.ScreenshotAsync(page, "dhcp-06-pushed");
            Assert.Empty(await Axe.SeriousViolationsAsync(page));
            var live = await Silo.Http.GetStringAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/config-versions?service=dhcp4");
            Assert.Contains("\"live\":true", live.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);

            // Leases: real DHCP traffic to subnet 3, listed, then one searched by its address.
            Assert.True(await PerfdhcpAsync(port) > 0, "no DHCPACK from the pushed configuration");
            await page.GetByTestId("lease-search-button").ClickAsync();
            await Assertions.Expect(page.GetByTestId("lease-row").First).ToContainTextAsync("127.0.0.", new() { Timeout = 30_000 });
            var address = (await page.GetByTestId("lease-row").First.Locator("td").First.TextContentAsync())!.Trim();
            await page.GetByLabel("Search leases").FillAsync(address);
            await page.GetByTestId("lease-search-button").ClickAsync();
            await Assertions.Expect(page.GetByTestId("leases-found")).ToContainTextAsync("1 lease (searched by");
            await Assertions.Expect(page.GetByTestId("lease-row")).ToHaveCountAsync(1);
            await Browser.ScreenshotAsync(page, "dhcp-07-leases");

            // Utilisation from DHCP monitoring: subnet 3's 11 addresses nearly all leased, at the warning or critical level in words and colour.
            await WaitAsync(
                () => Silo.Http.GetStringAsync($"{Silo.BaseUrl}/api/v1/monitoring/dhcp/utilisation?server={server.Id}"),
                u => u.Contains("\"level\":\"warning\"", StringComparison.Ordinal) || u.Contains("\"level\":\"critical\"", StringComparison.Ordinal),
                "subnet 3 reported at least 80 % full",
                agent);
            await page.ReloadAsync();
            await WaitInteractiveAsync(page);
            var full = page.Locator("[data-testid=subnet-row][data-subnet='3']").GetByTestId("utilisation");
            await Assertions.Expect(full).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+(\.\d)? % \((Warning|Critical)\)$"));
            Assert.Contains(await full.GetAttributeAsync("data-level"), new[] { "warning", "critical" });
            await Browser.ScreenshotAsync(page, "dhcp-08-utilisation");

            // The other family: no configuration yet, and what to do.
            await page.GetByTestId("family-6").ClickAsync();
            await Assertions.Expect(page.GetByTestId("no-config")).ToContainTextAsync("No DHCPv6 configuration yet");
            await Assertions.Expect(page.GetByTestId("no-service")).ToBeVisibleAsync();
            await Browser.ScreenshotAsync(page, "dhcp-09-v6-empty");
            Assert.Empty(await Axe.SeriousViolationsAsync(page));
        });
    }

    /// <summary>
    /// Without an agent (the import needs none): a viewer's page carries the configuration and the review in its first HTML,
    /// with no editing or push controls; a server of another kind has no DHCP page.
    /// </summary>
    [Fact]
    public async Task A_viewer_sees_the_imported_configuration_in_the_first_html_without_edit_or_push_controls()
    {
        var server = await Silo.CreateServerAsync("ui-dhcp-view", kind: "dhcp");
        var dns = await Silo.CreateServerAsync("ui-dns-view");
        using (var content = new StringContent(Config, Encoding.UTF8, "application/json"))
        using (var imported = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/dhcp/import", content))
        {
            Assert.True(imported.StatusCode == HttpStatusCode.OK, await imported.Content.ReadAsStringAsync());
        }

        using (var created = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/users", new StringContent("""{ "name": "viewer1", "password": "viewer-password-1", "groups": ["viewers"] }""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var cookies = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(Silo.BaseUrl) };
        var form = await http.GetStringAsync("/login");
        var token = WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(form, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value);
        using (var signIn = await http.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.Name"] = "viewer1",
            ["Input.Password"] = "viewer-password-1",
        })))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }

        var html = await http.GetStringAsync($"/servers/{server.Id}/dhcp?family=4&subnet=1");
        Assert.Contains("DHCP of ui-dhcp-view", html, StringComparison.Ordinal);
        Assert.Contains("198.51.100.0/24", html, StringComparison.Ordinal);
        Assert.Contains("Subnet 1 (192.0.2.0/24)", html, StringComparison.Ordinal);
        Assert.Contains("reserves 192.0.2.20 inside pool 192.0.2.10 - 192.0.2.100", html, StringComparison.Ordinal);
        Assert.Contains("Asking Kea", html, StringComparison.Ordinal); // Kea's state is asked once the page is live, not in the first HTML
        foreach (var control in new[] { "data-testid=\"push\"", "data-testid=\"add-pool\"", "data-testid=\"reservation-form\"", "data-testid=\"subnet-form\"", "data-testid=\"remove-subnet\"", ">Remove<" })
        {
            Assert.DoesNotContain(control, html, StringComparison.Ordinal);
        }

        Assert.Contains("DHCP server not found", await http.GetStringAsync($"/servers/{dns.Id}/dhcp"), StringComparison.Ordinal);
    }

    /// <summary>Ten DORA exchanges from <c>perfdhcp</c> relaying from 127.0.0.1 to Kea on <paramref name="port"/> (as E2E/DhcpPushTests); returns the DHCPACKs.</summary>
    private static async Task<int> PerfdhcpAsync(int port)
    {
        var start = new System.Diagnostics.ProcessStartInfo(
            "/usr/sbin/perfdhcp",
            ["-4", "-N", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-L", "67", "-l", "127.0.0.1", "-R", "10", "-n", "10", "-r", "10", "-p", "5", "127.0.0.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var perf = System.Diagnostics.Process.Start(start)!;
        var output = perf.StandardOutput.ReadToEndAsync();
        var errors = perf.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await perf.WaitForExitAsync(patience.Token);
        var text = await output + await errors;
        var answered = System.Text.RegularExpressions.Regex.Match(text, @"Statistics for: REQUEST-ACK\*+\s+sent packets: \d+\s+received packets: (\d+)");
        Assert.True(answered.Success, "perfdhcp printed no REQUEST-ACK statistics:\n" + text);
        return int.Parse(answered.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
