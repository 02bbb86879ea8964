using System.Text.RegularExpressions;
using ManagedServers.Silo.Tests.E2E;
using Microsoft.Playwright;

namespace ManagedServers.Silo.Tests.Ui;

/// <summary>
/// The jobs pages in headless chromium against a real silo and real jobs: a server whose agent runs (its jobs finish,
/// each agent step slowed down so a job is seen running) and one whose agent enrolled but is not running (its job waits,
/// queued). The fleet's list shows the job under way; a server filter (kept in the address) shows that server's
/// finished jobs and a new one arriving live; the kind and requester filters narrow it; a job's page shows its steps
/// arriving live, and an unknown job is said to be unknown. Screenshots in TestResults/screenshots (jobs-…).
/// </summary>
public sealed partial class UiJobsTests() : UiTestBase("ui-jobs")
{
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 60_000 };

    [Fact]
    public async Task The_jobs_list_shows_the_fleet_s_jobs_under_way_filters_by_server_kind_and_requester_and_a_job_s_page_shows_its_steps_live()
    {
        var page = await SignInAsync("/jobs");
        await StepsAsync(page, "jobs", async () =>
        {
            // No job yet: the page says how jobs come about.
            await Assertions.Expect(page.GetByTestId("empty")).ToContainTextAsync("No jobs under way");
            await Browser.ScreenshotAsync(page, "jobs-01-empty");

            // A server with a running agent, and one whose agent enrolled but is not running yet.
            var busy = await Silo.CreateServerAsync("jobs-dns-a", runtime: "exec");
            using var agent = AgentProcess.RunVerbose(await EnrolAsync(busy.Id, "jobs-a-state"));
            var offline = await Silo.CreateServerAsync("jobs-dns-b", runtime: "exec");
            var offlineState = await EnrolAsync(offline.Id, "jobs-b-state");
            await WaitRunningAsync(busy.Id, agent);
            await InstallDnsAsync(busy.Id, agent);
            var waiting = await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{offline.Id}/services", new AddServiceRequest("dns", Listen: [$"127.0.0.1@{Build.FreePort()}"]));
            Assert.Equal("queued", waiting.State);

            // The fleet's list: the job under way (the other server's finished job is kept with its server).
            await page.GetByTestId("refresh").ClickAsync();
            var rows = page.GetByTestId("jobs-table").Locator("tbody tr.ms-row");
            await Assertions.Expect(rows).ToHaveCountAsync(1);
            await Assertions.Expect(rows.First.GetByTestId("server-link")).ToHaveTextAsync("jobs-dns-b");
            await Assertions.Expect(rows.First.GetByTestId("job-link")).ToHaveTextAsync("Add service dns");
            await Assertions.Expect(rows.First.GetByTestId("job-state-badge")).ToHaveTextAsync("Queued");
            await Assertions.Expect(rows.First).ToContainTextAsync("admin");
            await Assertions.Expect(page.GetByTestId("live")).ToContainTextAsync("Refreshed every 10 s");
            await Browser.ScreenshotAsync(page, "jobs-02-fleet-under-way");
            await CheckAccessibleAsync(page, "/jobs");

            // The server filter: picked by name, kept in the address; that server's finished jobs show, and new ones arrive live.
            await page.GetByLabel("Server", new() { Exact = true }).FillAsync("jobs-dns-a");
            await page.GetByText("jobs-dns-a", new() { Exact = true }).Last.ClickAsync();
            await page.WaitForURLAsync(new Regex($"/jobs\\?server={Regex.Escape(busy.Id)}$"));
            await Assertions.Expect(rows).ToHaveCountAsync(1);
            await Assertions.Expect(rows.First.GetByTestId("job-link")).ToHaveTextAsync("Add service dns");
            await Assertions.Expect(rows.First.GetByTestId("job-state-badge")).ToHaveTextAsync("Succeeded");
            await Assertions.Expect(page.GetByTestId("live")).ToHaveTextAsync("Live", Slow);
            var stop = await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{busy.Id}/services/dns/stop");
            await Assertions.Expect(rows).ToHaveCountAsync(2, new() { Timeout = 30_000 }); // no reload: the server's job events
            await Assertions.Expect(rows.First.GetByTestId("job-link")).ToHaveTextAsync("Stop service dns");
            await Assertions.Expect(rows.First.GetByTestId("job-state-badge")).ToHaveTextAsync("Succeeded", Slow);
            await Browser.ScreenshotAsync(page, "jobs-03-server-filter");
            await CheckAccessibleAsync(page, "/jobs?server=…");

            // The kind filter narrows it, in the address too; a requester nobody is leaves nothing, and says so.
            await ChooseAsync(page, "Kind", "Stop service");
            await page.WaitForURLAsync(u => u.Contains("kind=stop_service", StringComparison.Ordinal) && u.Contains($"server={busy.Id}", StringComparison.Ordinal));
            await Assertions.Expect(rows).ToHaveCountAsync(1);
            await Assertions.Expect(rows.First.GetByTestId("job-link")).ToHaveTextAsync("Stop service dns");
            Assert.Equal("1 to 1 of 1 items", (await page.GetByTestId("range").TextContentAsync())?.Trim());
            await Browser.ScreenshotAsync(page, "jobs-04-kind-filter");
            await page.GetByLabel("Requested by").FillAsync("someone-else");
            await page.WaitForURLAsync(u => u.Contains("requested_by=someone-else", StringComparison.Ordinal));
            await Assertions.Expect(page.GetByTestId("no-match")).ToContainTextAsync("No job matches these filters");
            await CheckAccessibleAsync(page, "/jobs (no match)");
            await page.GetByLabel("Requested by").FillAsync("admin");
            await page.WaitForURLAsync(u => u.Contains("requested_by=admin", StringComparison.Ordinal));
            await Assertions.Expect(rows).ToHaveCountAsync(1);

            // A bookmarked filter opens as it was: the state filter on the fleet's list.
            await page.GotoAsync("/jobs?state=queued");
            await WaitInteractiveAsync(page);
            await Assertions.Expect(rows).ToHaveCountAsync(1);
            await Assertions.Expect(rows.First.GetByTestId("server-link")).ToHaveTextAsync("jobs-dns-b");
            await page.GotoAsync("/jobs?state=running");
            await Assertions.Expect(page.GetByTestId("no-match")).ToContainTextAsync("choose a server to see its finished ones");

            // A job's page from the list: its facts and its steps.
            await page.GotoAsync($"/jobs?server={busy.Id}&kind=stop_service");
            await WaitInteractiveAsync(page);
            await rows.First.GetByTestId("job-link").ClickAsync();
            await page.WaitForURLAsync($"**/jobs/{stop.JobId}");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Stop service dns on jobs-dns-a");
            await Assertions.Expect(page.GetByTestId("job-state")).ToHaveTextAsync("Succeeded");
            await Assertions.Expect(page.GetByTestId("job-requester")).ToHaveTextAsync("admin");
            Assert.True(await page.GetByTestId("job-steps").Locator("li").CountAsync() >= 2);
            await Browser.ScreenshotAsync(page, "jobs-05-job-finished");
            await CheckAccessibleAsync(page, "/jobs/{id}");

            // The waiting job, followed on its page: its agent starts (each install step slowed to a second), and the job's
            // steps, its running and its end arrive on the open page.
            await page.GotoAsync($"/jobs/{waiting.JobId}");
            await WaitInteractiveAsync(page);
            await Assertions.Expect(page.GetByTestId("live")).ToHaveTextAsync("Live", Slow);
            await Assertions.Expect(page.GetByTestId("job-state")).ToHaveTextAsync("Queued");
            var before = await page.GetByTestId("job-steps").Locator("li").CountAsync();
            await Browser.ScreenshotAsync(page, "jobs-06-job-queued");
            using var offlineAgent = AgentProcess.RunVerbose(offlineState, new Dictionary<string, string> { ["MANAGEDSERVERS_AGENT_STEP_DELAY_MS"] = "1000" });
            await Assertions.Expect(page.GetByTestId("job-state")).ToHaveTextAsync("Running", Slow);
            await Browser.ScreenshotAsync(page, "jobs-07-job-running");
            await Assertions.Expect(page.GetByTestId("job-state")).ToHaveTextAsync("Succeeded", Slow);
            var after = await page.GetByTestId("job-steps").Locator("li").CountAsync();
            Assert.True(after > before + 2, $"{before} step(s) while queued, {after} at the end");
            await Assertions.Expect(page.GetByTestId("job-progress")).ToHaveTextAsync("100 %");
            await Assertions.Expect(page.GetByTestId("job-finished")).Not.ToHaveTextAsync("—");
            await Browser.ScreenshotAsync(page, "jobs-08-job-succeeded-live");

            // Nothing under way any more: the fleet's list says so.
            await page.GotoAsync("/jobs");
            await Assertions.Expect(page.GetByTestId("empty")).ToContainTextAsync("No jobs under way");

            // An unknown job.
            await page.GotoAsync($"/jobs/{busy.Id}-job-999");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Job not found");
            await Assertions.Expect(page.GetByTestId("not-found")).ToContainTextAsync("not found");
            await Browser.ScreenshotAsync(page, "jobs-09-not-found");
            await CheckAccessibleAsync(page, "/jobs/{unknown}");

            // The dark theme at a tablet's width: the list and a job's page.
            await page.SetViewportSizeAsync(820, 1180);
            await page.GotoAsync($"/jobs/{stop.JobId}");
            await WaitInteractiveAsync(page);
            await SwitchToDarkAsync(page);
            await Browser.ScreenshotAsync(page, "jobs-10-job-dark-tablet");
            await CheckAccessibleAsync(page, "/jobs/{id} (dark, 820 px)");
            await page.GetByRole(AriaRole.Link, new() { Name = "All jobs of jobs-dns-a" }).ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith($"/jobs?server={busy.Id}", StringComparison.Ordinal));
            await Assertions.Expect(rows).ToHaveCountAsync(2);
            await Browser.ScreenshotAsync(page, "jobs-11-list-dark-tablet");
            await CheckAccessibleAsync(page, "/jobs?server=… (dark, 820 px)");

            // Emptying the server field lists the fleet's jobs again (nothing under way now).
            await page.GetByLabel("Server", new() { Exact = true }).FillAsync(string.Empty);
            await page.WaitForURLAsync(u => u.EndsWith("/jobs", StringComparison.Ordinal));
            await Assertions.Expect(page.GetByTestId("empty")).ToContainTextAsync("No jobs under way");
            Assert.True(_violations.Count == 0, "axe found:\n" + string.Join('\n', _violations));
        });
    }

    private readonly List<string> _violations = [];

    /// <summary>axe-core over the page as it is: serious or critical WCAG 2.1 A/AA violations are kept for the end of the test.</summary>
    private async Task CheckAccessibleAsync(IPage page, string what) =>
        _violations.AddRange((await Axe.SeriousViolationsAsync(page)).Select(v => $"{what}: {v}"));
}
