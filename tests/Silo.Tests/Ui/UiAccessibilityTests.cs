using System.Net.Http.Json;
using Microsoft.Playwright;

namespace ManagedServers.Silo.Tests.Ui;

/// <summary>
/// Every page of the UI through axe-core in chromium, in the light and the dark theme, at desktop and tablet widths: no
/// serious or critical violation of WCAG 2.1 A/AA. Each page is saved as a screenshot.
/// </summary>
public sealed class UiAccessibilityTests() : UiTestBase("ui-a11y")
{
    [Fact]
    public async Task Every_page_passes_axe_with_no_serious_or_critical_violation()
    {
        var server = await E2E.SiloApi.CreateServerAsync(Silo, "a11y-dns-1");
        using (var zone = await Silo.Http.PostAsJsonAsync($"{Silo.BaseUrl}/api/v1/zones", new { name = "a11y.test" }))
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, zone.StatusCode);
        }

        var signedOut = await NewPageAsync(await Browser.NewContextAsync(Silo.BaseUrl));
        var page = await SignInAsync();
        var pages = new (IPage Page, string Path, string Name)[]
        {
            (signedOut, "/login", "login"),
            (page, "/", "dashboard"),
            (page, "/servers", "servers"),
            (page, "/servers?q=nothing-matches", "servers-no-match"),
            (page, "/servers/add", "add-server"),
            (page, $"/servers/{server.Id}", "server-detail"),
            (page, "/tokens", "tokens"),
            (page, "/servers/no-such-server", "server-not-found"),
            (page, "/zones", "zones"),
            (page, "/zones?q=nothing-matches", "zones-no-match"),
            (page, "/zones/add", "add-zone"),
            (page, "/zones/a11y.test", "zone-detail"),
            (page, "/zones/no-such.test", "zone-not-found"),
            (page, $"/servers/{server.Id}/config", "server-config"),
        };

        var found = new List<string>();
        foreach (var (p, path, name) in pages)
        {
            await p.GotoAsync(path);
            if (p == page)
            {
                await WaitInteractiveAsync(p);
            }

            await Browser.ScreenshotAsync(p, "a11y-" + name);
            found.AddRange((await Axe.SeriousViolationsAsync(p)).Select(v => $"{path}: {v}"));
        }

        // The dark theme and a tablet's width, on the busiest page.
        await page.SetViewportSizeAsync(820, 1180);
        await page.GotoAsync("/servers");
        await WaitInteractiveAsync(page);
        await SwitchToDarkAsync(page);
        await Browser.ScreenshotAsync(page, "a11y-servers-dark-tablet");
        found.AddRange((await Axe.SeriousViolationsAsync(page)).Select(v => $"/servers (dark, 820 px): {v}"));

        Assert.True(found.Count == 0, "axe found:\n" + string.Join('\n', found));
    }
}
