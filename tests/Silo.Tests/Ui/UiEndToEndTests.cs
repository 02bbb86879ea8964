using System.Net.Http.Json;
using System.Text.RegularExpressions;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Api;
using ManagedServers.Silo.Tests.E2E;
using Microsoft.Playwright;

namespace ManagedServers.Silo.Tests.Ui;

/// <summary>
/// The web UI in headless chromium against a real silo and a real agent: sign in (a wrong password is refused on the
/// form), add a server (a bad field is named beside it), download its setup bundle, enrol an agent from that very file,
/// watch its row turn Running with the agent's version, stop and start a service from the server's page with the job's
/// steps arriving live, and sign out. Screenshots of each page land in TestResults/screenshots.
/// </summary>
public sealed partial class UiEndToEndTests() : UiTestBase("ui")
{
    private static readonly PageWaitForSelectorOptions Patient = new() { Timeout = 90_000 };

    [Fact]
    public async Task An_operator_signs_in_adds_a_server_enrols_its_agent_and_stops_and_starts_a_service_watching_the_job_live()
    {
        var context = await Browser.NewContextAsync(Silo.BaseUrl);
        var page = await NewPageAsync(context);

        await StepsAsync(page, "operator", async () =>
        {
            // Signed out, a page sends to the sign-in form and back after it.
            await page.GotoAsync("/servers");
            Assert.Matches("/login\\?return=%2Fservers$", page.Url);
            await page.GetByLabel("User name").FillAsync("admin");
            await page.GetByLabel("Password").FillAsync("not-the-password");
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            Assert.Equal("wrong user name or password", (await page.GetByTestId("login-error").TextContentAsync())?.Trim());
            await Browser.ScreenshotAsync(page, "01-sign-in-refused");
            await page.GetByLabel("Password").FillAsync(SiloProcess.AdminPassword);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith("/servers", StringComparison.Ordinal));
            var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "ms_session");
            Assert.True(cookie.HttpOnly);
            Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
            await WaitInteractiveAsync(page);
            Assert.Contains("No servers yet", await page.GetByTestId("empty").TextContentAsync(), StringComparison.Ordinal);
            await Browser.ScreenshotAsync(page, "02-servers-empty");

            // Add Server: a bad address is named beside its field and nothing is created; then a good one.
            await page.GetByTestId("add-server").First.ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith("/servers/add", StringComparison.Ordinal));
            await WaitInteractiveAsync(page);
            await page.GetByLabel("Server name").FillAsync("ui-dns-1");
            await page.GetByLabel("Address").FillAsync("not an address!");
            await ChooseAsync(page, "Runtime", "Host processes");
            await page.GetByTestId("create").ClickAsync();
            var addressError = page.Locator(".mud-input-control", new() { Has = page.GetByLabel("Address") }).Locator(".mud-input-helper-text");
            await Assertions.Expect(addressError).ToContainTextAsync("is neither an IP address nor a host name");
            await Browser.ScreenshotAsync(page, "03-add-server-refused");
            Assert.Equal(0, (await Silo.ListServersAsync()).Total);
            await page.GetByLabel("Address").FillAsync("127.0.0.1");
            await page.GetByTestId("create").ClickAsync();
            await page.GetByTestId("setup").WaitForAsync();
            Assert.Contains("ManagedServers.Agent enroll --bundle ui-dns-1.bundle.json", await page.GetByTestId("install-command").TextContentAsync(), StringComparison.Ordinal);
            await Browser.ScreenshotAsync(page, "04-add-server-setup");

            // The bundle the page hands out enrols a real agent.
            var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("download-bundle").ClickAsync());
            Assert.Equal("ui-dns-1.bundle.json", download.SuggestedFilename);
            var bundle = Path.Combine(Dir, "ui-dns-1.bundle.json");
            await download.SaveAsAsync(bundle);
            var stateDir = Path.Combine(Dir, "agent-state");
            var (code, text) = await AgentProcess.EnrollAsync(bundle, stateDir);
            Assert.True(code == 0, text);
            using var agent = AgentProcess.RunVerbose(stateDir);
            var server = (await Silo.ListServersAsync()).Items.Single();
            await WaitRunningAsync(server.Id, agent);

            // Its row turns Running, with the agent's version (the list refreshes by itself).
            await page.GotoAsync("/servers");
            var row = page.Locator("tr", new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "ui-dns-1" }) });
            await Assertions.Expect(row.GetByTestId("state")).ToHaveTextAsync("Running", new() { Timeout = 30_000 });
            var view = await Silo.GetServerAsync(server.Id);
            Assert.False(string.IsNullOrEmpty(view!.Versions.Monitor));
            await Assertions.Expect(row).ToContainTextAsync(view.Versions.Monitor!);
            Assert.Equal("1 to 1 of 1 items", (await page.GetByTestId("range").TextContentAsync())?.Trim());
            await Browser.ScreenshotAsync(page, "05-servers-running");

            // The dashboard counts it.
            await page.GetByRole(AriaRole.Link, new() { Name = "Dashboard" }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("count-running")).ToHaveTextAsync("1");
            await Assertions.Expect(page.GetByTestId("count-unreachable")).ToHaveTextAsync("0");
            await Browser.ScreenshotAsync(page, "06-dashboard");
            await page.GetByRole(AriaRole.Link, new() { Name = "Managed Servers" }).ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith("/servers", StringComparison.Ordinal));

            // A service, stopped and started from the server's page: the job's steps arrive while it runs.
            var dnsPort = await InstallDnsAsync(server.Id, agent);
            await row.GetByRole(AriaRole.Link, new() { Name = "ui-dns-1" }).ClickAsync();
            await page.WaitForURLAsync($"**/servers/{server.Id}");
            await WaitInteractiveAsync(page);
            await Assertions.Expect(page.GetByTestId("live")).ToHaveTextAsync("Live", new() { Timeout = 30_000 });
            var dns = page.GetByTestId("service-dns");
            await Assertions.Expect(dns.GetByTestId("service-state")).ToHaveTextAsync("running");
            await page.GetByTestId("stop-dns").ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Stop", Exact = true }).ClickAsync(); // the confirmation
            await Assertions.Expect(page.GetByTestId("job-steps")).ToContainTextAsync("stop", new() { Timeout = 60_000, IgnoreCase = true });
            await Assertions.Expect(page.GetByTestId("job-state").First).ToHaveTextAsync("succeeded", new() { Timeout = 60_000 });
            await Assertions.Expect(dns.GetByTestId("service-state")).ToHaveTextAsync("stopped", new() { Timeout = 30_000 });
            await Browser.ScreenshotAsync(page, "07-server-service-stopped");

            // The system charts: drawn on canvas from the agent's samples (raw up to an hour, aggregates beyond).
            var cpu = page.Locator("[data-testid=chart][data-title=CPU]");
            for (var tries = 0; await cpu.GetAttributeAsync("data-points") is not { } points || points == "0"; tries++)
            {
                Assert.True(tries < 60, "no CPU samples charted within a minute");
                await page.WaitForTimeoutAsync(1000);
                await page.GetByTestId("range-15m").ClickAsync(); // reads the samples again
            }

            Assert.Equal(1, await cpu.Locator("canvas").CountAsync());
            await Assertions.Expect(page.GetByTestId("charts-source")).ToContainTextAsync("samples as reported");
            await page.GetByTestId("range-24h").ClickAsync();
            await Assertions.Expect(page.GetByTestId("charts-source")).ToContainTextAsync("averages over 1 min");
            await page.GetByTestId("range-1h").ClickAsync();
            await Assertions.Expect(page.GetByTestId("charts-source")).ToContainTextAsync("samples as reported");
            var steps = await page.GetByTestId("job-steps").Locator("li").CountAsync();
            Assert.True(steps >= 2, $"{steps} step(s) shown");
            await page.GetByTestId("start-dns").ClickAsync();
            await Assertions.Expect(page.GetByTestId("job-row").First.GetByTestId("job-state")).ToHaveTextAsync("succeeded", new() { Timeout = 60_000 });
            await Assertions.Expect(dns.GetByTestId("service-state")).ToHaveTextAsync("running", new() { Timeout = 30_000 });
            Assert.Contains(await Silo.GetServerAsync(server.Id) is { } after ? after.Services! : [], s => s.Kind == "dns" && s.State == "running");
            await Browser.ScreenshotAsync(page, "08-server-service-started");

            await ZonesAsync(page, dnsPort);

            // An API token: a bad lifetime is named beside its field; a good one is shown once, works, and is revoked.
            await page.GetByRole(AriaRole.Link, new() { Name = "API tokens" }).ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith("/tokens", StringComparison.Ordinal));
            await page.GetByRole(AriaRole.Heading, new() { Name = "API tokens", Level = 1 }).WaitForAsync(); // the page itself, not only its address
            await page.GetByLabel("Name").FillAsync("ui-script");
            await page.GetByLabel("Expires in").FillAsync("soon");
            await page.GetByTestId("create-token").ClickAsync();
            await Assertions.Expect(page.Locator(".mud-input-control", new() { Has = page.GetByLabel("Expires in") }).Locator(".mud-input-helper-text")).ToContainTextAsync("'soon' is not");
            await page.GetByLabel("Expires in").FillAsync("2h");
            await page.GetByTestId("create-token").ClickAsync();
            var secret = (await page.GetByTestId("token-secret").TextContentAsync())!.Trim();
            Assert.StartsWith("mst_", secret, StringComparison.Ordinal);
            await Assertions.Expect(page.GetByTestId("tokens")).ToContainTextAsync("ui-script");
            await Browser.ScreenshotAsync(page, "09-tokens");
            using (var client = Silo.NewClient())
            {
                client.DefaultRequestHeaders.Authorization = new("Bearer", secret);
                Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync($"{Silo.BaseUrl}/api/v1/servers")).StatusCode);
                await page.GetByRole(AriaRole.Button, new() { Name = "Revoke ui-script" }).ClickAsync();
                await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Revoke", Exact = true }).ClickAsync();
                await Assertions.Expect(page.GetByTestId("tokens")).Not.ToContainTextAsync("ui-script");
                // The API caches a valid token for up to 5 s: refused within a bound, not after a fixed sleep.
                var refusedBy = DateTime.UtcNow.AddSeconds(30);
                while ((await client.GetAsync($"{Silo.BaseUrl}/api/v1/servers")).StatusCode != System.Net.HttpStatusCode.Unauthorized)
                {
                    Assert.True(DateTime.UtcNow < refusedBy, "the revoked token is still accepted after 30 s");
                    await Task.Delay(250);
                }
            }

            // Sign out: the session is over, pages send to the sign-in form again.
            await page.GetByTestId("sign-out").ClickAsync();
            await page.WaitForURLAsync(u => u.Contains("/login", StringComparison.Ordinal));
            await page.GotoAsync("/servers");
            Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        });
    }

    /// <summary>
    /// Zones: a zone file with an error is refused with its line quoted (nothing stored), then imported; a record refused
    /// beside its field, then added and edited in the grid; the zone assigned to the server and pushed from its page, the
    /// row turning In sync live, and the real Knot answering the record.
    /// </summary>
    private async Task ZonesAsync(IPage page, int dnsPort)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = "Zones" }).ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/zones", StringComparison.Ordinal));
        await WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("empty")).ToContainTextAsync("No zones yet");
        await page.GetByTestId("add-zone").First.ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/zones/add", StringComparison.Ordinal));
        await WaitInteractiveAsync(page);
        await page.GetByLabel("Zone name").FillAsync("ui.test");
        const string Good = "$ORIGIN ui.test.\n$TTL 300\n@ IN SOA ns1.ui.test. hostmaster.ui.test. 1 7200 3600 1209600 300\n@ IN NS ns1.ui.test.\nns1 IN A 127.0.0.1\n";
        await page.GetByLabel("Zone file (RFC 1035)").FillAsync(Good + "www IN A 192.0.2.999\n");
        await page.GetByTestId("create-zone").ClickAsync();
        var error = page.GetByTestId("zone-error");
        await Assertions.Expect(error).ToHaveAttributeAsync("data-line", "6");
        await Assertions.Expect(error).ToContainTextAsync("Line 6");
        await Assertions.Expect(error.Locator("code")).ToHaveTextAsync("www IN A 192.0.2.999");
        await Browser.ScreenshotAsync(page, "10-zone-import-refused");
        Assert.Equal(0, (await Silo.Http.GetFromJsonAsync<PageOf<ZoneView>>($"{Silo.BaseUrl}/api/v1/zones", ContractsJson.WireOptions))!.Total); // nothing stored
        await page.GetByLabel("Zone file (RFC 1035)").FillAsync(Good + "www IN A 192.0.2.80\n");
        await page.GetByTestId("create-zone").ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/zones/ui.test", StringComparison.Ordinal));
        await WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("records")).ToContainTextAsync("192.0.2.80");
        await Assertions.Expect(page.GetByTestId("no-servers")).ToBeVisibleAsync();

        // A record: a bad address is named beside the data field and nothing is added; a good one is added, then edited.
        await page.GetByTestId("new-name").FillAsync("mail");
        await page.GetByTestId("new-type").FillAsync("A");
        await page.GetByTestId("new-data").FillAsync("not-an-address");
        await page.GetByTestId("add-record").ClickAsync();
        await Assertions.Expect(page.Locator(".mud-input-control", new() { Has = page.GetByTestId("new-data") }).Locator(".mud-input-helper-text")).Not.ToBeEmptyAsync();
        Assert.Equal(4, await page.GetByTestId("record").CountAsync());
        await Browser.ScreenshotAsync(page, "11-zone-record-refused");
        await page.GetByTestId("new-data").FillAsync("192.0.2.25");
        await page.GetByTestId("add-record").ClickAsync();
        await Assertions.Expect(page.GetByTestId("record")).ToHaveCountAsync(5);
        var mail = page.GetByTestId("record").Filter(new() { HasText = "192.0.2.25" });
        await mail.GetByTestId("edit-record").ClickAsync();
        await page.GetByTestId("edit-data").FillAsync("192.0.2.26");
        await page.GetByTestId("save-record").ClickAsync();
        await Assertions.Expect(page.GetByTestId("records")).ToContainTextAsync("192.0.2.26");
        await Assertions.Expect(page.GetByTestId("records")).Not.ToContainTextAsync("192.0.2.25");

        // Assigned to the server, pushed from the zone's page: the row turns In sync as the job ends, and Knot answers.
        await page.GetByLabel("Assign to a DNS server").FillAsync("ui-dns");
        await page.GetByRole(AriaRole.Option, new() { Name = "ui-dns-1" }).ClickAsync();
        // The choice has landed (the list closed, the box shows it) before Assign: a click racing it finds no server chosen.
        await Assertions.Expect(page.GetByRole(AriaRole.Option, new() { Name = "ui-dns-1" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByLabel("Assign to a DNS server")).ToHaveValueAsync("ui-dns-1");
        await page.GetByTestId("assign").ClickAsync();
        var served = page.GetByTestId("zone-server");
        await Assertions.Expect(served.GetByTestId("sync")).ToHaveTextAsync("Not pushed");
        await served.GetByTestId("push").ClickAsync();
        await Assertions.Expect(served.GetByTestId("sync")).ToHaveTextAsync("In sync", new() { Timeout = 90_000 });
        Assert.Equal("192.0.2.26", await E2E.DnsPushTests.AddressOfAsync(dnsPort, "mail.ui.test"));
        await Browser.ScreenshotAsync(page, "12-zone-in-sync");

        // A change afterwards shows the server as behind until the next push.
        await page.GetByTestId("record").Filter(new() { HasText = "192.0.2.26" }).GetByTestId("delete-record").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Assertions.Expect(served.GetByTestId("sync")).ToHaveTextAsync("Changed since push");

        // Export: the zone file as stored.
        var export = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export").ClickAsync());
        Assert.Equal("ui.test.zone", export.SuggestedFilename);
        var text = await File.ReadAllTextAsync((await export.PathAsync())!);
        Assert.Contains("192.0.2.80", text, StringComparison.Ordinal);
        Assert.DoesNotContain("192.0.2.26", text, StringComparison.Ordinal);

        // The server's configuration page: its zones, a push from there, and the versions it applied with their diff.
        await served.GetByRole(AriaRole.Link, new() { Name = "ui-dns-1" }).ClickAsync();
        await page.GetByTestId("config-link").ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/config", StringComparison.Ordinal));
        await WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("server-zones")).ToContainTextAsync("Changed since push");
        await page.GetByTestId("push-zones").ClickAsync();
        await Assertions.Expect(page.GetByTestId("last-job-state")).ToHaveTextAsync("succeeded", new() { Timeout = 90_000 });
        await Assertions.Expect(page.GetByTestId("server-zones")).ToContainTextAsync("In sync");
        Assert.Null(await E2E.DnsPushTests.AddressOfAsync(dnsPort, "mail.ui.test")); // deleted, and pushed
        await Assertions.Expect(page.GetByTestId("version").First.GetByTestId("live")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("diff").Locator("td[data-change=added]", new() { HasText = "ui.test" }).First).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "13-server-configuration");
    }
}
