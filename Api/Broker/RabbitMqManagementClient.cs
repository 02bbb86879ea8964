using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;

namespace ManagedServers.Api.Broker;

/// <summary>
/// The few calls of the RabbitMQ management HTTP API the control plane needs: users, permissions, topic
/// permissions, and virtual hosts (tests). Authenticates with HTTP Basic as the settings' user. Does not own
/// the <see cref="HttpClient"/>. Failures throw <see cref="BrokerUnavailableException"/> with a readable reason.
/// </summary>
public sealed class RabbitMqManagementClient(HttpClient http, Uri managementUrl, string user, string password)
{
    private readonly Uri _base = managementUrl.AbsoluteUri.EndsWith('/') ? managementUrl : new Uri(managementUrl.AbsoluteUri + "/");
    private readonly AuthenticationHeaderValue _auth = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>Creates or updates a user (setting its password); <paramref name="tags"/> empty = no management access.</summary>
    public Task PutUserAsync(string name, string userPassword, string tags, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"api/users/{E(name)}", new UserBody(userPassword, tags), cancellationToken);

    /// <summary>Deletes a user; a user that does not exist counts as deleted.</summary>
    public Task DeleteUserAsync(string name, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, $"api/users/{E(name)}", null, cancellationToken, notFoundIsFine: true);

    public async Task<bool> UserExistsAsync(string name, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, $"api/users/{E(name)}", null, cancellationToken, notFoundIsFine: true) != HttpStatusCode.NotFound;

    /// <summary>Sets the configure/write/read regular expressions of <paramref name="userName"/> on <paramref name="vhost"/>.</summary>
    public Task PutPermissionsAsync(string vhost, string userName, string configure, string write, string read, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"api/permissions/{E(vhost)}/{E(userName)}", new PermissionsBody(configure, write, read), cancellationToken);

    /// <summary>Sets the routing-key patterns <paramref name="userName"/> may publish (write) and bind (read) on a topic exchange.</summary>
    public Task PutTopicPermissionsAsync(string vhost, string userName, string exchange, string write, string read, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"api/topic-permissions/{E(vhost)}/{E(userName)}", new TopicPermissionsBody(exchange, write, read), cancellationToken);

    public Task PutVirtualHostAsync(string vhost, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"api/vhosts/{E(vhost)}", new { }, cancellationToken);

    public Task DeleteVirtualHostAsync(string vhost, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, $"api/vhosts/{E(vhost)}", null, cancellationToken, notFoundIsFine: true);

    private async Task<HttpStatusCode> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken, bool notFoundIsFine = false)
    {
        var url = new Uri(_base, path);
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = _auth;
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType());
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new BrokerUnavailableException($"the RabbitMQ management API at {_base} cannot be reached: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BrokerUnavailableException($"the RabbitMQ management API at {_base} did not answer in time", ex);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode || (notFoundIsFine && response.StatusCode == HttpStatusCode.NotFound))
            {
                return response.StatusCode;
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var hint = response.StatusCode == HttpStatusCode.Unauthorized
                ? $"user '{user}' was refused (wrong password, or the user lacks the administrator tag)"
                : text.Length > 200 ? text[..200] : text;
            throw new BrokerUnavailableException($"the RabbitMQ management API answered {(int)response.StatusCode} to {method} {url.AbsolutePath}: {hint}");
        }
    }

    private static string E(string segment) => Uri.EscapeDataString(segment);

    private sealed record UserBody([property: JsonPropertyName("password")] string Password, [property: JsonPropertyName("tags")] string Tags);

    private sealed record PermissionsBody(
        [property: JsonPropertyName("configure")] string Configure,
        [property: JsonPropertyName("write")] string Write,
        [property: JsonPropertyName("read")] string Read);

    private sealed record TopicPermissionsBody(
        [property: JsonPropertyName("exchange")] string Exchange,
        [property: JsonPropertyName("write")] string Write,
        [property: JsonPropertyName("read")] string Read);
}
