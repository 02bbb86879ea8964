using System.Net;
using System.Text.RegularExpressions;

namespace ManagedServers.Silo.Tests.Ui;

/// <summary>
/// The UI as a plain HTTP client sees it (no browser, no script): the sign-in form posts with its anti-forgery token,
/// a wrong password is 401 with the message, the session cookie's flags, pages that carry their data in the first HTML,
/// a cookie that does not open the REST API, and sign-out.
/// </summary>
public sealed partial class UiHttpTests() : E2E.SiloTestBase("ui-http")
{
    [Fact]
    public async Task A_plain_http_client_signs_in_with_the_form_and_gets_pages_with_their_data_but_not_the_api()
    {
        var server = await E2E.SiloApi.CreateServerAsync(Silo, "http-dns-1");
        var cookies = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(Silo.BaseUrl) };

        using (var signedOut = await http.GetAsync("/servers"))
        {
            Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
            Assert.Equal("/login?return=%2Fservers", signedOut.Headers.Location!.PathAndQuery);
        }

        var form = await http.GetStringAsync("/login?return=%2Fservers");
        var token = Token(form);

        // No anti-forgery token: refused before any password is checked.
        using (var forged = await http.PostAsync("/login", Form(("_handler", "login"), ("Input.Name", "admin"), ("Input.Password", E2E.SiloProcess.AdminPassword))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }

        using (var wrong = await http.PostAsync("/login", Form(("_handler", "login"), ("__RequestVerificationToken", token), ("Input.Name", "admin"), ("Input.Password", "nope"), ("Input.Return", "/servers"))))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Contains("wrong user name or password", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // An address elsewhere is not followed after sign-in (no open redirect).
        using (var signIn = await http.PostAsync("/login", Form(("_handler", "login"), ("__RequestVerificationToken", token), ("Input.Name", "admin"), ("Input.Password", E2E.SiloProcess.AdminPassword), ("Input.Return", "//evil.example/x"))))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            Assert.Equal(Silo.BaseUrl + "/", new Uri(new Uri(Silo.BaseUrl), signIn.Headers.Location!).AbsoluteUri);
            var setCookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ms_session=", StringComparison.Ordinal));
            Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        }

        // The first HTML of a page carries its data: the list and a server's page, before any script runs.
        var list = await http.GetStringAsync("/servers");
        Assert.Contains("http-dns-1", list, StringComparison.Ordinal);
        Assert.Contains("1 to 1 of 1 items", list, StringComparison.Ordinal);
        var detail = await http.GetStringAsync($"/servers/{server.Id}");
        Assert.Contains(server.Id, detail, StringComparison.Ordinal);
        Assert.Contains("Pending", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("No servers yet", await http.GetStringAsync("/servers?q=zz"), StringComparison.Ordinal);

        // The cookie opens the UI only: the REST API wants a Bearer token.
        using (var api = await http.GetAsync("/api/v1/servers"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        }

        // Sign-out needs the page's anti-forgery token, then ends the session.
        using (var forgedOut = await http.PostAsync("/logout", Form()))
        {
            Assert.Equal(HttpStatusCode.BadRequest, forgedOut.StatusCode);
        }

        using (var signOut = await http.PostAsync("/logout", Form(("__RequestVerificationToken", Token(list)))))
        {
            Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
            Assert.Equal("/login", signOut.Headers.Location!.OriginalString);
        }

        using var after = await http.GetAsync("/servers");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
    }

    /// <summary>A viewer sees the fleet but not what only admins may do: no Add Server button, and its page says so.</summary>
    [Fact]
    public async Task A_viewer_sees_the_list_without_the_admin_actions_and_is_told_a_page_is_not_allowed()
    {
        using (var created = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/users", new StringContent("""{ "name": "viewer1", "password": "viewer-password-1", "groups": ["viewers"] }""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var cookies = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(Silo.BaseUrl) };
        var token = Token(await http.GetStringAsync("/login"));
        using (var signIn = await http.PostAsync("/login", Form(("_handler", "login"), ("__RequestVerificationToken", token), ("Input.Name", "viewer1"), ("Input.Password", "viewer-password-1"))))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }

        var list = await http.GetStringAsync("/servers");
        Assert.Contains("No servers yet", list, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"add-server\"", list, StringComparison.Ordinal);
        using var add = await http.GetAsync("/servers/add");
        Assert.Equal(HttpStatusCode.Redirect, add.StatusCode);
        Assert.StartsWith("/denied", add.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Contains("Your groups do not allow this page", await http.GetStringAsync("/denied"), StringComparison.Ordinal);
        using var bundle = await http.GetAsync("/ui/servers/any/setup-bundle");
        Assert.Equal(HttpStatusCode.Forbidden, bundle.StatusCode); // setup bundles are for admins
    }

    private static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));

    private static string Token(string html) =>
        WebUtility.HtmlDecode(TokenPattern().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("no anti-forgery token in:\n" + html));

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
