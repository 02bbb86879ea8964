using System.Net;
using System.Net.Http.Json;
using ManagedServers.Silo.Tests.E2E;
using Microsoft.Playwright;

namespace ManagedServers.Silo.Tests.Ui;

/// <summary>
/// The settings pages in headless chromium against a real silo: a bad DHCP level is refused with the API's message beside
/// its field and nothing changes; a good one is saved, the page says old → new and the API returns it; a monitoring
/// field likewise; Test Credentials shows the broker's reason; a saved RabbitMQ password is only said to have changed;
/// a user is refused then created. A viewer sees the values read-only, without Save Changes.
/// </summary>
public sealed class UiSettingsTests() : UiTestBase("ui-settings")
{
    [Fact]
    public async Task An_admin_is_refused_a_bad_value_beside_its_field_then_saves_a_good_one_and_sees_what_changed()
    {
        var page = await SignInAsync("/settings");
        await StepsAsync(page, "settings", async () =>
        {
            // Monitoring: the current values; a bad heartbeat interval is refused beside its field, then a good one saved.
            var before = await MonitoringAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Settings");
            await Assertions.Expect(Field(page, "Heartbeat interval (seconds)")).ToHaveValueAsync(before.HeartbeatIntervalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Browser.ScreenshotAsync(page, "settings-01-monitoring");
            await Field(page, "Heartbeat interval (seconds)").FillAsync("0");
            await page.GetByTestId("save").ClickAsync();
            await Assertions.Expect(FieldError(page, "Heartbeat interval (seconds)")).ToHaveTextAsync("Must be between 1 and 3600");
            await Assertions.Expect(page.GetByTestId("form-error")).ToContainTextAsync("Nothing was saved");
            Assert.Equal(before, await MonitoringAsync());
            await Field(page, "Heartbeat interval (seconds)").FillAsync("45");
            await page.GetByTestId("save").ClickAsync();
            await ExpectChangeAsync(page, "Heartbeat interval (seconds)", before.HeartbeatIntervalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "45");
            Assert.Equal(1, await page.GetByTestId("change").CountAsync());
            Assert.Equal(before with { HeartbeatIntervalSeconds = 45 }, await MonitoringAsync());
            await Assertions.Expect(page.GetByTestId("form-error")).ToHaveCountAsync(0);
            await Browser.ScreenshotAsync(page, "settings-02-monitoring-saved");

            // DHCP thresholds: above 100, then above the critical level: refused beside the warning level, nothing saved.
            await page.GetByTestId("settings-nav").GetByRole(AriaRole.Link, new() { Name = "DHCP thresholds" }).ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith("/settings/dhcp", StringComparison.Ordinal));
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "DHCP thresholds" })).ToBeVisibleAsync();
            await Assertions.Expect(Field(page, "Warning level (% of the pool in use)")).ToHaveValueAsync("80");
            await Assertions.Expect(Field(page, "Critical level (% of the pool in use)")).ToHaveValueAsync("90");
            var saved = await MonitoringAsync();
            await Field(page, "Warning level (% of the pool in use)").FillAsync("150");
            await page.GetByTestId("save").ClickAsync();
            await Assertions.Expect(FieldError(page, "Warning level (% of the pool in use)")).ToHaveTextAsync("Must be between 1 and 100; the warning level must not be above the critical level");
            await Browser.ScreenshotAsync(page, "settings-03-dhcp-refused");
            Assert.Equal(saved, await MonitoringAsync());
            await Field(page, "Warning level (% of the pool in use)").FillAsync("95");
            await page.GetByTestId("save").ClickAsync();
            await Assertions.Expect(FieldError(page, "Warning level (% of the pool in use)")).ToHaveTextAsync("The warning level must not be above the critical level");
            await Assertions.Expect(FieldError(page, "Critical level (% of the pool in use)")).Not.ToContainTextAsync("warning level must not");
            Assert.Equal(saved, await MonitoringAsync());
            await Field(page, "Warning level (% of the pool in use)").FillAsync("85");
            await page.GetByTestId("save").ClickAsync();
            await ExpectChangeAsync(page, "Warning level (%)", "80", "85");
            Assert.Equal(85, (await MonitoringAsync()).DhcpUtilisationWarning);
            await Assertions.Expect(FieldError(page, "Warning level (% of the pool in use)")).ToHaveTextAsync("1 to 100"); // the helper again, not the message
            await Browser.ScreenshotAsync(page, "settings-04-dhcp-saved");

            // RabbitMQ: not configured; Test Credentials names the missing fields, then shows the broker's reason.
            await page.GetByTestId("settings-nav").GetByRole(AriaRole.Link, new() { Name = "RabbitMQ" }).ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith("/settings/rabbitmq", StringComparison.Ordinal));
            await Assertions.Expect(Field(page, "Password")).ToHaveValueAsync(string.Empty);
            await page.GetByTestId("test").ClickAsync();
            await Assertions.Expect(FieldError(page, "Host")).ToContainTextAsync("Is required");
            await Assertions.Expect(FieldError(page, "User")).ToHaveTextAsync("Is required");
            await Assertions.Expect(page.GetByTestId("form-error")).ToContainTextAsync("Not tested");
            await Field(page, "Host").FillAsync("127.0.0.1");
            await Field(page, "User").FillAsync("ui-test-user");
            await Field(page, "Password").FillAsync("not-the-right-password");
            await page.GetByTestId("test").ClickAsync();
            await Assertions.Expect(page.GetByTestId("test-result")).ToBeVisibleAsync(new() { Timeout = 30_000 });
            await Assertions.Expect(page.GetByTestId("test-outcome")).ToHaveTextAsync("Failed");

            // No broker in the test: connection refused; with one at 5672 the wrong password: authentication.
            Assert.Contains(await page.GetByTestId("test-reason").TextContentAsync(), new[] { "refused", "authentication" });
            Assert.False(string.IsNullOrWhiteSpace(await page.GetByTestId("test-detail").TextContentAsync()));
            await Assertions.Expect(page.GetByTestId("form-error")).ToHaveCountAsync(0);
            await Assertions.Expect(FieldError(page, "Host")).ToHaveTextAsync("Host name or IP address of the broker");
            Assert.False((await RabbitMqAsync()).PasswordSet); // a test saves nothing
            await Browser.ScreenshotAsync(page, "settings-05-rabbitmq-test");

            // Saved: what changed, and the password only as "changed"; the field is empty again.
            await page.GetByTestId("save").ClickAsync();
            await ExpectChangeAsync(page, "Host", "—", "127.0.0.1");
            await ExpectChangeAsync(page, "User", "—", "ui-test-user");
            await Assertions.Expect(page.GetByTestId("change-list")).ToContainTextAsync("Password changed");
            Assert.DoesNotContain("not-the-right-password", await page.ContentAsync(), StringComparison.Ordinal);
            await Assertions.Expect(Field(page, "Password")).ToHaveValueAsync(string.Empty);
            await Assertions.Expect(FieldError(page, "Password")).ToHaveTextAsync("A password is stored: leave empty to keep it");
            var rabbit = await RabbitMqAsync();
            Assert.Equal(("127.0.0.1", "ui-test-user", true), (rabbit.Host, rabbit.User, rabbit.PasswordSet));
            await Browser.ScreenshotAsync(page, "settings-06-rabbitmq-saved");

            // Another host without the password again: the API's rule, beside the password.
            await Field(page, "Host").FillAsync("localhost");
            await page.GetByTestId("save").ClickAsync();
            await Assertions.Expect(FieldError(page, "Password")).ToContainTextAsync("Is required for this target");
            Assert.Equal("127.0.0.1", (await RabbitMqAsync()).Host);
            await page.GetByTestId("reset").ClickAsync();
            await Assertions.Expect(Field(page, "Host")).ToHaveValueAsync("127.0.0.1");

            // Users: a bad name and a short password are named beside their fields; then a good user.
            await page.GetByTestId("settings-nav").GetByRole(AriaRole.Link, new() { Name = "Users & groups" }).ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith("/settings/users", StringComparison.Ordinal));
            await Assertions.Expect(page.GetByTestId("group")).ToHaveCountAsync(3);
            await Assertions.Expect(page.GetByTestId("users")).ToContainTextAsync("admin");
            await Field(page, "User name").FillAsync("Bad Name!");
            await Field(page, "Password").FillAsync("short");
            await page.GetByTestId("create-user").ClickAsync();
            await Assertions.Expect(FieldError(page, "User name")).ToContainTextAsync("Use 1 to 64 characters");
            await Assertions.Expect(FieldError(page, "Password")).ToHaveTextAsync("At least 12 characters");
            await Browser.ScreenshotAsync(page, "settings-07-users-refused");
            Assert.DoesNotContain(await UsersAsync(), u => u.Name.Contains("bad", StringComparison.Ordinal));
            await Field(page, "User name").FillAsync("alice.ops");
            await Field(page, "Password").FillAsync("alice-password-1");
            await page.GetByText("Admins: full control").ClickAsync();
            await page.GetByTestId("create-user").ClickAsync();
            await Assertions.Expect(page.GetByTestId("user-created")).ToContainTextAsync("alice.ops");
            await Assertions.Expect(page.Locator("[data-testid=user][data-user='alice.ops']")).ToContainTextAsync("admins");
            Assert.Equal(["admins"], Assert.Single(await UsersAsync(), u => u.Name == "alice.ops").Groups);
            await Browser.ScreenshotAsync(page, "settings-08-users-created");

            // The same name again: the API's conflict, beside the name.
            await Field(page, "User name").FillAsync("alice.ops");
            await Field(page, "Password").FillAsync("another-password-2");
            await page.GetByTestId("create-user").ClickAsync();
            await Assertions.Expect(FieldError(page, "User name")).ToHaveTextAsync("User 'alice.ops' already exists");
            await Assertions.Expect(page.GetByTestId("user-created")).ToHaveCountAsync(0);
            await Browser.ScreenshotAsync(page, "settings-09-users-duplicate");

            // Each section through axe-core (the accessibility test's rule set), then the dark theme at a tablet's width.
            var found = new List<string>();
            foreach (var path in new[] { "/settings", "/settings/rabbitmq", "/settings/dhcp", "/settings/users" })
            {
                await page.GotoAsync(path);
                await WaitInteractiveAsync(page);
                found.AddRange((await Axe.SeriousViolationsAsync(page)).Select(v => $"{path}: {v}"));
            }

            await page.SetViewportSizeAsync(820, 1180);
            await SwitchToDarkAsync(page);
            await Browser.ScreenshotAsync(page, "settings-12-users-dark-tablet");
            found.AddRange((await Axe.SeriousViolationsAsync(page)).Select(v => $"/settings/users (dark, 820 px): {v}"));
            Assert.True(found.Count == 0, "axe found:\n" + string.Join('\n', found));
        });
    }

    [Fact]
    public async Task A_viewer_sees_the_settings_read_only_without_save_or_test_and_no_users()
    {
        using (var created = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/users", new StringContent("""{ "name": "viewer1", "password": "viewer-password-1", "groups": ["viewers"] }""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var context = await Browser.NewContextAsync(Silo.BaseUrl);
        var page = await NewPageAsync(context);
        await StepsAsync(page, "settings-viewer", async () =>
        {
            await page.GotoAsync("/settings");
            await Field(page, "User name").FillAsync("viewer1");
            await Field(page, "Password").FillAsync("viewer-password-1");
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await page.WaitForURLAsync(u => u.EndsWith("/settings", StringComparison.Ordinal));
            await WaitInteractiveAsync(page);
            await Assertions.Expect(page.GetByTestId("read-only")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("save")).ToHaveCountAsync(0);
            await Assertions.Expect(Field(page, "Heartbeat interval (seconds)")).ToHaveAttributeAsync("readonly", string.Empty);
            await Browser.ScreenshotAsync(page, "settings-10-viewer-monitoring");

            await page.GotoAsync("/settings/rabbitmq");
            await WaitInteractiveAsync(page);
            await Assertions.Expect(page.GetByTestId("read-only")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("save")).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("test")).ToHaveCountAsync(0);
            await Assertions.Expect(Field(page, "Password")).ToHaveValueAsync("not set");

            await page.GotoAsync("/settings/users");
            await WaitInteractiveAsync(page);
            await Assertions.Expect(page.GetByTestId("group")).ToHaveCountAsync(3);
            await Assertions.Expect(page.GetByTestId("users-admins-only")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("create-user")).ToHaveCountAsync(0);
            await Browser.ScreenshotAsync(page, "settings-11-viewer-users");
        });
    }

    /// <summary>The input labelled exactly <paramref name="label"/>.</summary>
    private static ILocator Field(IPage page, string label) => page.GetByLabel(label, new() { Exact = true });

    /// <summary>The helper line under the field labelled <paramref name="label"/>: the API's message after a refusal.</summary>
    private static ILocator FieldError(IPage page, string label) =>
        page.Locator(".mud-input-control", new() { Has = Field(page, label) }).Locator(".mud-input-helper-text");

    private static async Task ExpectChangeAsync(IPage page, string label, string old, string @new)
    {
        var change = page.Locator($"[data-testid=change][data-field='{label}']");
        await Assertions.Expect(change.GetByTestId("change-old")).ToHaveTextAsync(old);
        await Assertions.Expect(change.GetByTestId("change-new")).ToHaveTextAsync(@new);
    }

    private async Task<MonitoringSettingsView> MonitoringAsync() =>
        (await Silo.Http.GetFromJsonAsync<MonitoringSettingsView>($"{Silo.BaseUrl}/api/v1/settings/monitoring", ContractsJson.WireOptions))!;

    private async Task<RabbitMqSettingsView> RabbitMqAsync() =>
        (await Silo.Http.GetFromJsonAsync<RabbitMqSettingsView>($"{Silo.BaseUrl}/api/v1/settings/rabbitmq", ContractsJson.WireOptions))!;

    private async Task<UserView[]> UsersAsync() =>
        (await Silo.Http.GetFromJsonAsync<UserView[]>($"{Silo.BaseUrl}/api/v1/users", ContractsJson.WireOptions))!;
}
