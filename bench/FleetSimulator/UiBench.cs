using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Api;
using Microsoft.Playwright;

namespace ManagedServers.FleetSimulator;

/// <summary>
/// The web UI at fleet scale, measured in the browser (headless Debian chromium through Playwright): Managed Servers'
/// first render, a page change and a search over N servers, a server's page with an hour of 5-second samples until every
/// chart is drawn (median and p95 of --runs), then the silo's CPU with --sessions browser sessions open on live pages.
/// </summary>
internal static class UiBench
{
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

    // Records when the live page took over (the layout adds [data-ms-interactive]), in the page's own clock.
    private const string InteractiveProbe = """
        new MutationObserver((_, o) => { if (document.querySelector('[data-ms-interactive]')) { window.__msInteractive = performance.now(); o.disconnect(); } })
          .observe(document, { childList: true, subtree: true });
        """;

    // Resolves when the [data-testid=range] text differs from before and the change is painted; the time since t0.
    private const string UntilRangeChanges = """
        ([before, t0]) => new Promise(resolve => {
          const check = () => { const r = document.querySelector('[data-testid=range]'); return r && r.textContent !== before; };
          const done = () => requestAnimationFrame(() => resolve(performance.now() - t0));
          if (check()) { done(); return; }
          const o = new MutationObserver(() => { if (check()) { o.disconnect(); done(); } });
          o.observe(document.body, { childList: true, subtree: true, characterData: true });
        })
        """;

    public static async Task RunAsync(HttpClient api, Options options, string[] args)
    {
        int Arg(string name, int fallback) => Array.IndexOf(args, "--" + name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        var runs = Arg("runs", 20);
        var sessions = Arg("sessions", 50);
        var sessionSeconds = Arg("sessions-seconds", 300);
        var prefix = options.Prefix;
        var wire = ContractsJson.WireOptions;

        // The fleet: servers up to --agents (kept from an earlier run with the same --prefix).
        var total = (await api.GetFromJsonAsync<PageOf<ServerView>>("/api/v1/servers?per_page=1", wire))!.Total;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(total, Math.Max(0, options.Agents - total)), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            using var created = await api.PostAsJsonAsync("/api/v1/servers", new CreateServerRequest($"{prefix}-{i:D6}", "dns", "127.0.0.1"), wire, ct);
            created.EnsureSuccessStatusCode();
        });
        Console.WriteLine($"fleet: {Math.Max(total, options.Agents):N0} servers ({Math.Max(0, options.Agents - total):N0} created in {clock.Elapsed.TotalSeconds:F0} s)");

        // One server with an hour of samples every 5 s (720), sent by an enrolled simulated agent.
        using var createdCharts = await api.PostAsJsonAsync("/api/v1/servers", new CreateServerRequest($"{prefix}-charts-{Guid.NewGuid():N}"[..30], "dns", "127.0.0.1"), wire);
        var charts = (await createdCharts.Content.ReadFromJsonAsync<ServerView>(wire))!;
        using var agent = await SimAgent.EnrollAsync((await api.GetFromJsonAsync<SetupBundle>($"/api/v1/servers/{charts.Id}/setup-bundle", wire))!, CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        var samples = Enumerable.Range(0, 720).Select(k => SimAgent.SyntheticSample(now.AddSeconds(-5 * (720 - k)))).ToList();
        foreach (var chunk in samples.Chunk(240))
        {
            using var posted = await agent.SamplesAsync(chunk, CancellationToken.None);
            posted.EnsureSuccessStatusCode();
        }

        using var playwright = await Playwright.CreateAsync();
        var executable = Environment.GetEnvironmentVariable("MANAGEDSERVERS_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = executable, Headless = true, Args = ChromiumArgs });
        var context = await SignedInContextAsync(browser, options);
        await context.AddInitScriptAsync(InteractiveProbe);
        var page = await context.NewPageAsync();

        // Managed Servers, first render: the prerendered list painted (first contentful paint), and the live page.
        var (paint, live) = (new List<double>(), new List<double>());
        for (var i = 0; i < runs; i++)
        {
            await page.GotoAsync("/servers");
            await page.WaitForFunctionAsync("() => window.__msInteractive !== undefined");
            paint.Add(await page.EvaluateAsync<double>("() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1"));
            live.Add(await page.EvaluateAsync<double>("() => window.__msInteractive"));
        }

        // A page change: the pager's "next" clicked until the new page's range is painted.
        var pageChange = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var before = await page.GetByTestId("range").TextContentAsync();
            var t0 = await page.EvaluateAsync<double>("() => performance.now()");
            var wait = page.EvaluateAsync<double>(UntilRangeChanges, new object?[] { before, t0 });
            await page.EvaluateAsync("() => [...document.querySelectorAll('[data-testid=pager] button')].at(-1).click()");
            pageChange.Add(await wait);
        }

        // A search: typed into the box (one input event), until the result's range is painted. The box waits for a
        // 250 ms pause in typing before it asks; that pause is counted, and also reported apart.
        var search = new List<double>();
        await page.GotoAsync("/servers");
        await page.WaitForFunctionAsync("() => window.__msInteractive !== undefined");
        for (var i = 0; i < runs; i++)
        {
            var term = i % 2 == 0 ? $"{prefix}-00{i % 100:D2}" : string.Empty; // 100 matches, then the whole fleet again
            var before = await page.GetByTestId("range").TextContentAsync();
            search.Add(await page.EvaluateAsync<double>(
                """
                async ([term, before, wait]) => {
                  const input = document.querySelector('input[data-testid=search], [data-testid=search] input');
                  const t0 = performance.now();
                  input.value = term;
                  input.dispatchEvent(new Event('input', { bubbles: true }));
                  return await (eval(wait))([before, t0]);
                }
                """,
                new object?[] { term, before, UntilRangeChanges }));
        }

        // A server's page with an hour of 5-second samples: navigation start to every chart drawn.
        var detail = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            await page.GotoAsync($"/servers/{charts.Id}?range=1h");
            detail.Add(await page.EvaluateAsync<double>(
                """
                () => new Promise(resolve => {
                  const check = () => {
                    const c = [...document.querySelectorAll('[data-testid=chart]')];
                    if (c.length >= 5 && c.every(e => e.hidden || Number(e.dataset.points) > 0)) requestAnimationFrame(() => resolve(performance.now()));
                    else setTimeout(check, 5);
                  };
                  check();
                })
                """));
        }

        var points = await page.Locator("[data-testid=chart][data-title=CPU]").GetAttributeAsync("data-points");
        Console.WriteLine($"Managed Servers over {Math.Max(total, options.Agents):N0} servers, {runs} runs each (browser clock, ms):");
        Report("first render (first contentful paint, prerendered page with its rows)", paint);
        Report("live (interactive) after navigation start", live);
        Report("page change (click to painted)", pageChange);
        Report("search (keystroke to painted, incl. the 250 ms typing pause)", search);
        Report("search (after the typing pause)", [.. search.Select(s => s - 250)]);
        Report($"server page, 1 h of 5 s samples ({points} points per line), navigation start to every chart drawn", detail);
        await context.CloseAsync();

        // The silo's CPU: idle first, then with browser sessions open on live pages (lists refreshing, servers' pages
        // subscribed to job events) for --sessions-seconds.
        if (options.SiloPid > 0 && sessions > 0)
        {
            var idle = await CpuOverAsync(options.SiloPid, TimeSpan.FromSeconds(Math.Min(60, sessionSeconds)));
            var opened = new List<IBrowserContext>();
            for (var s = 0; s < sessions; s++)
            {
                var c = await SignedInContextAsync(browser, options);
                opened.Add(c);
                var p = await c.NewPageAsync();
                await p.GotoAsync(s % 2 == 0 ? "/servers" : s % 4 == 1 ? $"/servers/{charts.Id}" : "/");
                await p.WaitForSelectorAsync("[data-ms-interactive]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = 60_000 });
            }

            var busy = await CpuOverAsync(options.SiloPid, TimeSpan.FromSeconds(sessionSeconds));
            Console.WriteLine($"silo CPU (% of one core): idle {idle:F1} %; with {sessions} live browser sessions for {sessionSeconds} s: {busy:F1} % " +
                $"(+{(busy - idle) / sessions:F2} % per session); RSS {ProcessStats.Rss(options.SiloPid) / 1048576.0:F0} MiB");
            foreach (var c in opened)
            {
                await c.CloseAsync();
            }
        }
    }

    private static async Task<IBrowserContext> SignedInContextAsync(IBrowser browser, Options options)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = options.Url, ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync(options.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(u => !u.Contains("/login", StringComparison.Ordinal));
        await page.CloseAsync();
        return context;
    }

    private static async Task<double> CpuOverAsync(int pid, TimeSpan span)
    {
        var before = ProcessStats.CpuSeconds(pid);
        await Task.Delay(span);
        return (ProcessStats.CpuSeconds(pid) - before) / span.TotalSeconds * 100;
    }

    private static void Report(string what, List<double> values)
    {
        var sorted = values.Order().ToArray();
        double Percentile(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what}: median {Percentile(0.5):F0}, p95 {Percentile(0.95):F0}, min {sorted[0]:F0}, max {sorted[^1]:F0}"));
    }
}
