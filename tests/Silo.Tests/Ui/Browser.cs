using Microsoft.Playwright;

namespace ManagedServers.Silo.Tests.Ui;

/// <summary>
/// Headless Debian chromium driven by Playwright (its executable path set: nothing downloads a browser). One browser per
/// test class; each test opens its own context (cookies, downloads). Screenshots go to TestResults/screenshots.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    // Chromium's background traffic (updates, Google hosts) has nowhere to go on this network: turn it off.
    private static readonly string[] Args =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

    private readonly IPlaywright _playwright;

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Chromium = browser;
    }

    public IBrowser Chromium { get; }

    public static string ExecutablePath => Environment.GetEnvironmentVariable("MANAGEDSERVERS_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static string ScreenshotDir { get; } = Path.Combine(E2E.Build.RepoRoot, "TestResults", "screenshots");

    public static async Task<Browser> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"no chromium at {ExecutablePath}: install Debian's chromium (scripts/test.sh does) or set MANAGEDSERVERS_TEST_CHROMIUM");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath, Headless = true, Args = Args });
        return new Browser(playwright, browser);
    }

    /// <summary>A new context (its own cookies) at 1280×800, downloads accepted.</summary>
    public Task<IBrowserContext> NewContextAsync(string baseUrl, int width = 1280, int height = 800) =>
        Chromium.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new ViewportSize { Width = width, Height = height }, AcceptDownloads = true });

    /// <summary>Saves a full-page screenshot as TestResults/screenshots/<paramref name="name"/>.png (a test artifact, and for people to look at).</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDir);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await Chromium.CloseAsync();
        _playwright.Dispose();
    }
}
