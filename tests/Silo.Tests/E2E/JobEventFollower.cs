using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// Follows <c>GET /api/v1/jobs/events?server=</c> (server-sent events) with the given credentials; checks that the stream
/// starts with a ping at once (it is subscribed from then on).
/// </summary>
public sealed class JobEventFollower : IDisposable
{
    private readonly HttpClient _client;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private JobEventFollower(HttpClient client, HttpResponseMessage response, StreamReader reader) =>
        (_client, _response, _reader) = (client, response, reader);

    public static async Task<JobEventFollower> OpenAsync(string baseUrl, AuthenticationHeaderValue authorization, string serverId)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = authorization;
        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/v1/jobs/events?server={serverId}"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var follower = new JobEventFollower(client, response, new StreamReader(await response.Content.ReadAsStreamAsync()));

        // The stream starts with a ping as soon as it is subscribed (the next one would be 15 s later).
        using var soon = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal("event: ping", await follower._reader.ReadLineAsync(soon.Token));
        return follower;
    }

    /// <summary>The events of <paramref name="jobId"/> until its last (succeeded or failed).</summary>
    public async Task<List<JobEventView>> UntilFinishedAsync(string jobId, TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        var seen = new List<JobEventView>();
        string? eventName = null;
        while (seen.LastOrDefault()?.Type is not ("succeeded" or "failed"))
        {
            var line = await _reader.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("the event stream ended");
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventName == "job")
            {
                var item = JsonSerializer.Deserialize<JobEventView>(line["data: ".Length..], ContractsJson.WireOptions)!;
                if (item.JobId == jobId)
                {
                    seen.Add(item);
                }
            }
        }

        return seen;
    }

    /// <summary>The response's media type (text/event-stream).</summary>
    public string? MediaType => _response.Content.Headers.ContentType?.MediaType;

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
        _client.Dispose();
    }
}
