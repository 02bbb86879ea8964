using Microsoft.Playwright;

namespace ManagedServers.Silo.Tests.Ui;

/// <summary>A silo process and a browser for each test class; helpers to sign in and to wait on the page.</summary>
public abstract class UiTestBase(string prefix) : E2E.SiloTestBase(prefix)
{
    protected Browser Browser { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Browser = await Browser.LaunchAsync();
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    /// <summary>A new browser context with the admin signed in through the sign-in form; the page is on <paramref name="path"/>.</summary>
    protected async Task<IPage> SignInAsync(string path = "/")
    {
        var context = await Browser.NewContextAsync(Silo.BaseUrl);
        var page = await NewPageAsync(context);
        await page.GotoAsync(path);
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync(E2E.SiloProcess.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(u => !u.Contains("/login", StringComparison.Ordinal));
        await WaitInteractiveAsync(page);
        return page;
    }

    /// <summary>Waits until Blazor's circuit is up, so clicks reach the server (the prerendered page shows before).</summary>
    protected async Task WaitInteractiveAsync(IPage page)
    {
        try
        {
            await page.WaitForFunctionAsync("() => document.querySelector('[data-ms-interactive]') !== null", null, new() { Timeout = 30_000 });
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"the page at {page.Url} did not turn interactive; browser console:\n{string.Join('\n', ConsoleOf(page))}\nsilo:\n{Silo.Output}", e);
        }
    }

    /// <summary>Runs a test's steps on <paramref name="page"/>; a failure leaves a screenshot (TestResults/screenshots/FAILED-…) and carries the browser console and the silo's log.</summary>
    protected async Task StepsAsync(IPage page, string name, Func<Task> steps)
    {
        try
        {
            await steps();
        }
        catch (Exception e) when (e is TimeoutException or PlaywrightException or Xunit.Sdk.XunitException)
        {
            await Browser.ScreenshotAsync(page, "FAILED-" + name);
            throw new InvalidOperationException($"{e.Message}\nat {page.Url}; browser console:\n{string.Join('\n', ConsoleOf(page))}\nsilo:\n{Silo.Output}", e);
        }
    }

    /// <summary>Picks <paramref name="option"/> in the MudBlazor select labelled <paramref name="label"/>.</summary>
    protected static async Task ChooseAsync(IPage page, string label, string option)
    {
        await page.Locator(".mud-select", new() { Has = page.GetByText(label, new() { Exact = true }) }).First.ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = option, Exact = true }).ClickAsync();
    }

    /// <summary>Switches the page to the dark theme with the app bar's button, and waits until its palette is in force (not a fixed time).</summary>
    protected static async Task SwitchToDarkAsync(IPage page)
    {
        const string Background = "() => getComputedStyle(document.documentElement).getPropertyValue('--mud-palette-background').trim()";
        var light = await page.EvaluateAsync<string>(Background);
        await page.GetByRole(AriaRole.Button, new() { Name = "Switch between light and dark theme" }).ClickAsync();
        await page.WaitForFunctionAsync($"light => ({Background})() !== light", light);
    }

    private readonly Dictionary<IPage, List<string>> _console = [];

    /// <summary>A new page in <paramref name="context"/> whose browser console is kept (failures show it).</summary>
    protected async Task<IPage> NewPageAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        var lines = _console[page] = [];
        page.Console += (_, m) => { lock (lines) { lines.Add($"{m.Type}: {m.Text}"); } };
        page.PageError += (_, m) => { lock (lines) { lines.Add($"pageerror: {m}"); } };
        return page;
    }

    private List<string> ConsoleOf(IPage page) => _console.TryGetValue(page, out var lines) ? [.. lines] : [];
}
