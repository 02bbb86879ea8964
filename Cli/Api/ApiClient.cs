using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Api;

namespace ManagedServers.Cli.Api;

/// <summary>A typed API response together with the raw JSON the server sent (for <c>-o json</c>).</summary>
internal sealed record ApiResult<T>(T Value, string Json);

/// <summary>Query of GET /api/v1/servers; null parameters are omitted.</summary>
internal sealed record ServerQuery(string? Q = null, int? Page = null, int? PerPage = null, string? Sort = null);

/// <summary>
/// Thin client of the ManagedServers REST API (/api/v1). JSON goes through <see cref="ContractsJson.WireOptions"/>;
/// error responses become <see cref="ApiException"/>, missing responses <see cref="ApiUnreachableException"/>.
/// </summary>
internal sealed class ApiClient : IDisposable
{
    private const string Prefix = "api/v1/";
    private readonly HttpClient _http;

    public ApiClient(Uri baseUrl, AuthenticationHeaderValue? authorization, TimeSpan timeout)
    {
        BaseUrl = baseUrl;
        _http = new HttpClient { BaseAddress = baseUrl, Timeout = timeout };
        _http.DefaultRequestHeaders.Authorization = authorization;
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("msctl", typeof(ApiClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    /// <summary>Base URL ending in '/', without the /api/v1 prefix.</summary>
    public Uri BaseUrl { get; }

    public static AuthenticationHeaderValue? Bearer(string? token) =>
        string.IsNullOrEmpty(token) ? null : new AuthenticationHeaderValue("Bearer", token);

    public static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    // ---- servers ----

    public Task<ApiResult<PageOf<ServerView>>> ListServersAsync(ServerQuery query, CancellationToken ct) =>
        SendAsync<PageOf<ServerView>>(HttpMethod.Get, "servers" + QueryString(
            ("q", query.Q), ("page", query.Page?.ToString()), ("per_page", query.PerPage?.ToString()), ("sort", query.Sort)), null, ct);

    public Task<ApiResult<ServerView>> GetServerAsync(string id, CancellationToken ct) =>
        SendAsync<ServerView>(HttpMethod.Get, $"servers/{Escape(id)}", null, ct);

    public Task<ApiResult<ServerView>> CreateServerAsync(CreateServerRequest request, CancellationToken ct) =>
        SendAsync<ServerView>(HttpMethod.Post, "servers", JsonContent.Create(request, options: ContractsJson.WireOptions), ct);

    public Task DeleteServerAsync(string id, CancellationToken ct) =>
        SendRawAsync(HttpMethod.Delete, $"servers/{Escape(id)}", null, ct);

    /// <summary>The setup bundle exactly as the server sent it.</summary>
    public Task<byte[]> GetSetupBundleAsync(string id, CancellationToken ct) =>
        SendRawAsync(HttpMethod.Get, $"servers/{Escape(id)}/setup-bundle", null, ct);

    public Task<ApiResult<PingResult>> PingServerAsync(string id, CancellationToken ct) =>
        SendAsync<PingResult>(HttpMethod.Post, $"servers/{Escape(id)}/ping", null, ct);

    public Task<ApiResult<ServerEventView[]>> GetServerEventsAsync(string id, CancellationToken ct) =>
        SendAsync<ServerEventView[]>(HttpMethod.Get, $"servers/{Escape(id)}/events", null, ct);

    public Task<ApiResult<CertificateRevocationView>> RevokeServerCertificateAsync(string id, CancellationToken ct) =>
        SendAsync<CertificateRevocationView>(HttpMethod.Post, $"servers/{Escape(id)}/revoke-certificate", null, ct);

    // ---- CA ----

    public Task<ApiResult<CaView>> GetCaAsync(CancellationToken ct) => SendAsync<CaView>(HttpMethod.Get, "ca", null, ct);

    public Task<ApiResult<CaView>> RotateCaAsync(CancellationToken ct) => SendAsync<CaView>(HttpMethod.Post, "ca/rotate", null, ct);

    public Task<ApiResult<CaView>> FinishCaRotationAsync(bool force, CancellationToken ct) =>
        SendAsync<CaView>(HttpMethod.Post, force ? "ca/rotate/finish?force=true" : "ca/rotate/finish", null, ct);

    // ---- tokens ----

    public Task<ApiResult<CreatedToken>> CreateTokenAsync(CreateTokenRequest request, CancellationToken ct) =>
        SendAsync<CreatedToken>(HttpMethod.Post, "tokens", JsonContent.Create(request, options: ContractsJson.WireOptions), ct);

    public Task<ApiResult<TokenView[]>> ListTokensAsync(CancellationToken ct) =>
        SendAsync<TokenView[]>(HttpMethod.Get, "tokens", null, ct);

    public Task RevokeTokenAsync(string id, CancellationToken ct) =>
        SendRawAsync(HttpMethod.Delete, $"tokens/{Escape(id)}", null, ct);

    // ---- settings ----

    public Task<ApiResult<RabbitMqSettingsView>> GetRabbitMqSettingsAsync(CancellationToken ct) =>
        SendAsync<RabbitMqSettingsView>(HttpMethod.Get, "settings/rabbitmq", null, ct);

    public Task<ApiResult<RabbitMqSettingsView>> PutRabbitMqSettingsAsync(RabbitMqSettingsUpdate update, CancellationToken ct) =>
        SendAsync<RabbitMqSettingsView>(HttpMethod.Put, "settings/rabbitmq", JsonContent.Create(update, options: ContractsJson.WireOptions), ct);

    /// <summary>Tests the connection with <paramref name="update"/> applied over the stored settings, or the stored ones when null.</summary>
    public Task<ApiResult<RabbitMqTestResult>> TestRabbitMqAsync(RabbitMqSettingsUpdate? update, CancellationToken ct) =>
        SendAsync<RabbitMqTestResult>(HttpMethod.Post, "settings/rabbitmq/test", update is null ? null : JsonContent.Create(update, options: ContractsJson.WireOptions), ct);

    public Task<ApiResult<MonitoringSettingsView>> GetMonitoringSettingsAsync(CancellationToken ct) =>
        SendAsync<MonitoringSettingsView>(HttpMethod.Get, "settings/monitoring", null, ct);

    /// <summary>PUT /settings/monitoring with only the fields that are set (nulls are left out of the body).</summary>
    public Task<ApiResult<MonitoringSettingsView>> PutMonitoringSettingsAsync(MonitoringSettingsUpdate update, CancellationToken ct) =>
        SendAsync<MonitoringSettingsView>(HttpMethod.Put, "settings/monitoring", JsonContent.Create(update, options: WireOptionsWithoutNulls), ct);

    // ---- monitoring ----

    /// <summary>Raw system samples of a server in [from, to), oldest first; <paramref name="metric"/> as the API's metric filter.</summary>
    public Task<ApiResult<RawSamplesView>> GetRawSamplesAsync(string serverId, DateTimeOffset from, DateTimeOffset to, string? metric, CancellationToken ct) =>
        SendAsync<RawSamplesView>(HttpMethod.Get, "monitoring/system/raw" + QueryString(
            ("server", serverId), ("from", Iso(from)), ("to", Iso(to)), ("metric", metric)), null, ct);

    /// <summary>System samples aggregated into buckets of <paramref name="stepSeconds"/> (60 or 3600), oldest first.</summary>
    public Task<ApiResult<AggregateSamplesView>> GetAggregateSamplesAsync(string serverId, DateTimeOffset from, DateTimeOffset to, int stepSeconds, string? metric, CancellationToken ct) =>
        SendAsync<AggregateSamplesView>(HttpMethod.Get, "monitoring/system/aggregate" + QueryString(
            ("server", serverId), ("from", Iso(from)), ("to", Iso(to)), ("step", stepSeconds.ToString(CultureInfo.InvariantCulture)), ("metric", metric)), null, ct);

    /// <summary>The top names of a DNS server over a window, of one zone or all.</summary>
    public Task<ApiResult<DnsTopView>> GetDnsTopAsync(string serverId, string? zone, int n, DateTimeOffset from, DateTimeOffset to, CancellationToken ct) =>
        SendAsync<DnsTopView>(HttpMethod.Get, "monitoring/dns/top" + QueryString(
            ("server", serverId), ("zone", zone), ("n", n.ToString(CultureInfo.InvariantCulture)), ("from", Iso(from)), ("to", Iso(to))), null, ct);

    // ---- services, jobs, diagnostics, debug bundle ----

    public Task<ApiResult<ServiceView[]>> ListServicesAsync(string serverId, CancellationToken ct) =>
        SendAsync<ServiceView[]>(HttpMethod.Get, $"servers/{Escape(serverId)}/services", null, ct);

    public Task<ApiResult<JobView>> AddServiceAsync(string serverId, AddServiceRequest request, CancellationToken ct) =>
        SendAsync<JobView>(HttpMethod.Post, $"servers/{Escape(serverId)}/services", JsonContent.Create(request, options: WireOptionsWithoutNulls), ct);

    /// <summary>start, stop or restart.</summary>
    public Task<ApiResult<JobView>> ManageServiceAsync(string serverId, string service, string action, CancellationToken ct) =>
        SendAsync<JobView>(HttpMethod.Post, $"servers/{Escape(serverId)}/services/{Escape(service)}/{Escape(action)}", null, ct);

    public Task<ApiResult<JobView>> RemoveServiceAsync(string serverId, string service, CancellationToken ct) =>
        SendAsync<JobView>(HttpMethod.Delete, $"servers/{Escape(serverId)}/services/{Escape(service)}", null, ct);

    public Task<ApiResult<JobView>> RunDiagnosticsAsync(string serverId, CancellationToken ct) =>
        SendAsync<JobView>(HttpMethod.Post, $"servers/{Escape(serverId)}/diagnostics", null, ct);

    /// <summary>A job; with <paramref name="waitSeconds"/>, waits up to that long for a change after <paramref name="version"/>.</summary>
    public Task<ApiResult<JobView>> GetJobAsync(string jobId, int? waitSeconds, long? version, CancellationToken ct) =>
        SendAsync<JobView>(HttpMethod.Get, $"jobs/{Escape(jobId)}" + QueryString(
            ("wait_seconds", waitSeconds?.ToString(CultureInfo.InvariantCulture)), ("version", version?.ToString(CultureInfo.InvariantCulture))), null, ct);

    public Task<ApiResult<PageOf<JobView>>> ListJobsAsync(string? serverId, string? state, int? page, int? perPage, CancellationToken ct, string? requestedBy = null) =>
        SendAsync<PageOf<JobView>>(HttpMethod.Get, "jobs" + QueryString(
            ("server", serverId), ("state", state), ("requested_by", requestedBy), ("page", page?.ToString(CultureInfo.InvariantCulture)), ("per_page", perPage?.ToString(CultureInfo.InvariantCulture))), null, ct);

    /// <summary>
    /// GET the debug bundle: the tar.gz when it is ready within <paramref name="timeoutSeconds"/>, else the job (202) to ask again with.
    /// </summary>
    public async Task<(byte[]? Bundle, string? FileName, JobView? Pending)> GetDebugBundleAsync(string serverId, string? jobId, int timeoutSeconds, CancellationToken ct)
    {
        var path = $"servers/{Escape(serverId)}/debug-bundle" + QueryString(("job", jobId), ("timeout_seconds", timeoutSeconds.ToString(CultureInfo.InvariantCulture)));
        using var request = new HttpRequestMessage(HttpMethod.Get, Prefix + path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/gzip"));
        using var response = await SendCheckedAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            return (null, null, JsonSerializer.Deserialize<JobView>(body, ContractsJson.WireOptions));
        }

        return (body, response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'), null);
    }

    // ---- DNS servers: zones assigned, pushes, configuration versions ----

    public Task<ApiResult<ServerDnsView>> GetServerZonesAsync(string serverId, CancellationToken ct) =>
        SendAsync<ServerDnsView>(HttpMethod.Get, $"servers/{Escape(serverId)}/zones", null, ct);

    public Task<ApiResult<ServerDnsView>> SetServerZonesAsync(string serverId, IReadOnlyList<string> zones, CancellationToken ct) =>
        SendAsync<ServerDnsView>(HttpMethod.Put, $"servers/{Escape(serverId)}/zones", JsonContent.Create(zones.ToArray(), options: ContractsJson.WireOptions), ct);

    public Task<ApiResult<ServerDnsView>> AssignServerZoneAsync(string serverId, string zone, CancellationToken ct) =>
        SendAsync<ServerDnsView>(HttpMethod.Post, $"servers/{Escape(serverId)}/zones/{ZoneUrl.Segment(zone)}", null, ct);

    public Task<ApiResult<ServerDnsView>> UnassignServerZoneAsync(string serverId, string zone, CancellationToken ct) =>
        SendAsync<ServerDnsView>(HttpMethod.Delete, $"servers/{Escape(serverId)}/zones/{ZoneUrl.Segment(zone)}", null, ct);

    public Task<ApiResult<JobView>> PushZonesAsync(string serverId, bool full, bool atomic, CancellationToken ct) =>
        SendAsync<JobView>(HttpMethod.Post, $"servers/{Escape(serverId)}/push-zones" + (full ? "?full=true" : string.Empty), PushBody(atomic), ct);

    public Task<ApiResult<JobView>> PushConfigAsync(string serverId, bool atomic, CancellationToken ct, int? family = null, bool acknowledgeWarnings = false) =>
        SendAsync<JobView>(HttpMethod.Post, $"servers/{Escape(serverId)}/push-config", PushBody(atomic, family, acknowledgeWarnings), ct);

    private static JsonContent? PushBody(bool atomic, int? family = null, bool acknowledgeWarnings = false) =>
        atomic || family is not null || acknowledgeWarnings
            ? JsonContent.Create(new PushRequest(Atomic: atomic ? true : null, Family: family, AcknowledgeWarnings: acknowledgeWarnings ? true : null), options: ContractsJson.WireOptions)
            : null;

    public Task<ApiResult<DhcpImportView>> ImportDhcpAsync(string serverId, string document, CancellationToken ct) =>
        SendAsync<DhcpImportView>(HttpMethod.Post, $"servers/{Escape(serverId)}/dhcp/import", new StringContent(document, Encoding.UTF8, "application/json"), ct);

    public async Task<string> RenderedDhcpAsync(string serverId, int family, CancellationToken ct) =>
        Encoding.UTF8.GetString(await SendRawAsync(HttpMethod.Get, $"servers/{Escape(serverId)}/dhcp/rendered?family={family.ToString(CultureInfo.InvariantCulture)}", null, ct));

    public Task<ApiResult<DhcpFindingView[]>> ReviewDhcpAsync(string serverId, int family, CancellationToken ct) =>
        SendAsync<DhcpFindingView[]>(HttpMethod.Get, $"servers/{Escape(serverId)}/dhcp/review?family={family.ToString(CultureInfo.InvariantCulture)}", null, ct);

    public Task<ApiResult<OperationView>> PushDhcpAsync(DhcpPushRequest request, CancellationToken ct) =>
        SendAsync<OperationView>(HttpMethod.Post, "dhcp/push", JsonContent.Create(request, options: ContractsJson.WireOptions), ct);

    public Task<ApiResult<OperationView>> GetOperationAsync(string id, CancellationToken ct) =>
        SendAsync<OperationView>(HttpMethod.Get, $"operations/{Escape(id)}", null, ct);

    public Task<ApiResult<ItemsOf<DhcpSubnetView>>> ListDhcpSubnetsAsync(string serverId, int? family, CancellationToken ct) =>
        SendAsync<ItemsOf<DhcpSubnetView>>(HttpMethod.Get, "dhcp/subnets" + QueryString(("server", serverId), ("family", family?.ToString(CultureInfo.InvariantCulture))), null, ct);

    public Task<ApiResult<DhcpSubnetView>> CreateDhcpSubnetAsync(DhcpSubnetRequest request, CancellationToken ct) =>
        SendAsync<DhcpSubnetView>(HttpMethod.Post, "dhcp/subnets", JsonContent.Create(request, options: WireOptionsWithoutNulls), ct);

    public Task DeleteDhcpSubnetAsync(long id, int family, IEnumerable<string> servers, CancellationToken ct) =>
        SendRawAsync(HttpMethod.Delete, $"dhcp/subnets/{id.ToString(CultureInfo.InvariantCulture)}" + DhcpScope(family, servers), null, ct);

    public Task<ApiResult<ItemsOf<DhcpSharedNetworkView>>> ListDhcpSharedNetworksAsync(string serverId, int family, CancellationToken ct) =>
        SendAsync<ItemsOf<DhcpSharedNetworkView>>(HttpMethod.Get, "dhcp/shared-networks" + QueryString(("server", serverId), ("family", family.ToString(CultureInfo.InvariantCulture))), null, ct);

    public Task<ApiResult<DhcpSharedNetworkView>> CreateDhcpSharedNetworkAsync(DhcpSharedNetworkRequest request, CancellationToken ct) =>
        SendAsync<DhcpSharedNetworkView>(HttpMethod.Post, "dhcp/shared-networks", JsonContent.Create(request, options: WireOptionsWithoutNulls), ct);

    public Task DeleteDhcpSharedNetworkAsync(string name, int family, IEnumerable<string> servers, CancellationToken ct) =>
        SendRawAsync(HttpMethod.Delete, $"dhcp/shared-networks/{Escape(name)}" + DhcpScope(family, servers), null, ct);

    public Task<ApiResult<ItemsOf<DhcpClientClassView>>> ListDhcpClientClassesAsync(string serverId, int family, CancellationToken ct) =>
        SendAsync<ItemsOf<DhcpClientClassView>>(HttpMethod.Get, "dhcp/client-classes" + QueryString(("server", serverId), ("family", family.ToString(CultureInfo.InvariantCulture))), null, ct);

    public Task<ApiResult<DhcpClientClassView>> CreateDhcpClientClassAsync(DhcpClientClassRequest request, CancellationToken ct) =>
        SendAsync<DhcpClientClassView>(HttpMethod.Post, "dhcp/client-classes", JsonContent.Create(request, options: WireOptionsWithoutNulls), ct);

    public Task DeleteDhcpClientClassAsync(string name, int family, IEnumerable<string> servers, CancellationToken ct) =>
        SendRawAsync(HttpMethod.Delete, $"dhcp/client-classes/{Escape(name)}" + DhcpScope(family, servers), null, ct);

    public Task<ApiResult<DhcpSubnetView>> AddDhcpPoolAsync(long subnetId, DhcpPoolRequest request, CancellationToken ct) =>
        SendAsync<DhcpSubnetView>(HttpMethod.Post, $"dhcp/subnets/{subnetId.ToString(CultureInfo.InvariantCulture)}/pools", JsonContent.Create(request, options: WireOptionsWithoutNulls), ct);

    public Task<ApiResult<DhcpSubnetView>> RemoveDhcpPoolAsync(long subnetId, string pool, int family, IEnumerable<string> servers, CancellationToken ct) =>
        SendAsync<DhcpSubnetView>(HttpMethod.Delete, $"dhcp/subnets/{subnetId.ToString(CultureInfo.InvariantCulture)}/pools" + DhcpScope(family, servers) + "&pool=" + Uri.EscapeDataString(pool), null, ct);

    public Task<ApiResult<DhcpSubnetView>> PutDhcpReservationAsync(long subnetId, DhcpReservationRequest request, CancellationToken ct) =>
        SendAsync<DhcpSubnetView>(HttpMethod.Post, $"dhcp/subnets/{subnetId.ToString(CultureInfo.InvariantCulture)}/reservations", JsonContent.Create(request, options: WireOptionsWithoutNulls), ct);

    public Task<ApiResult<DhcpSubnetView>> RemoveDhcpReservationAsync(long subnetId, string identifierType, string identifier, int family, IEnumerable<string> servers, CancellationToken ct) =>
        SendAsync<DhcpSubnetView>(HttpMethod.Delete, $"dhcp/subnets/{subnetId.ToString(CultureInfo.InvariantCulture)}/reservations" + DhcpScope(family, servers)
            + $"&identifier_type={Uri.EscapeDataString(identifierType)}&identifier={Uri.EscapeDataString(identifier)}", null, ct);

    public Task<ApiResult<DhcpLeasesView>> ListDhcpLeasesAsync(string serverId, string? search, int? family, string? from, int? limit, CancellationToken ct) =>
        SendAsync<DhcpLeasesView>(HttpMethod.Get, $"servers/{Escape(serverId)}/leases" + QueryString(
            ("search", search), ("family", family?.ToString(CultureInfo.InvariantCulture)), ("from", from), ("limit", limit?.ToString(CultureInfo.InvariantCulture))), null, ct);

    public Task DeleteDhcpLeaseAsync(string serverId, string address, CancellationToken ct) =>
        SendRawAsync(HttpMethod.Delete, $"servers/{Escape(serverId)}/leases/{Uri.EscapeDataString(address)}", null, ct);

    private static string DhcpScope(int family, IEnumerable<string> servers) =>
        $"?family={family.ToString(CultureInfo.InvariantCulture)}" + string.Concat(servers.Select(s => "&server=" + Uri.EscapeDataString(s)));

    public Task<ApiResult<ConfigVersionView[]>> ListConfigVersionsAsync(string serverId, CancellationToken ct) =>
        SendAsync<ConfigVersionView[]>(HttpMethod.Get, $"servers/{Escape(serverId)}/config-versions", null, ct);

    public Task<ApiResult<ConfigDiffView>> DiffConfigVersionsAsync(string serverId, int version, int? from, CancellationToken ct) =>
        SendAsync<ConfigDiffView>(HttpMethod.Get, $"servers/{Escape(serverId)}/config-versions/{version.ToString(CultureInfo.InvariantCulture)}/diff"
            + QueryString(("from", from?.ToString(CultureInfo.InvariantCulture))), null, ct);

    public Task<ApiResult<JobView>> RevertConfigAsync(string serverId, int version, CancellationToken ct) =>
        SendAsync<JobView>(HttpMethod.Post, $"servers/{Escape(serverId)}/config-versions/{version.ToString(CultureInfo.InvariantCulture)}/apply", null, ct);

    // ---- plumbing ----

    /// <summary>Sends a request and deserializes a JSON response body.</summary>
    public async Task<ApiResult<T>> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        var bytes = await SendRawAsync(method, path, content, ct);
        var json = Encoding.UTF8.GetString(bytes);
        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(bytes, ContractsJson.WireOptions);
        }
        catch (JsonException ex)
        {
            throw new CliException($"unexpected response from {Describe(path)}: {ex.Message}");
        }

        return value is null
            ? throw new CliException($"unexpected response from {Describe(path)}: empty body")
            : new ApiResult<T>(value, json);
    }

    /// <summary>Sends a request and returns the body of a 2xx response; throws for anything else.</summary>
    public async Task<byte[]> SendRawAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, Prefix + path) { Content = content };
        using var response = await SendCheckedAsync(request, ct);
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    /// <summary>Sends a request; returns a 2xx response (body read), throws for anything else.</summary>
    private async Task<HttpResponseMessage> SendCheckedAsync(HttpRequestMessage request, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new ApiUnreachableException(BaseUrl, Reason(ex), ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new ApiUnreachableException(BaseUrl, $"no answer within {_http.Timeout.TotalSeconds:0}s", ex);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                throw ApiException.FromResponse(response.StatusCode, response.ReasonPhrase, Encoding.UTF8.GetString(body));
            }
        }

        return response;
    }

    public void Dispose() => _http.Dispose();

    private string Describe(string path) => new Uri(BaseUrl, Prefix + path).GetLeftPart(UriPartial.Path);

    private static string Reason(HttpRequestException ex)
    {
        // "Connection refused (127.0.0.1:5000)", "Name or service not known (nohost:80)", TLS failures...
        var message = ex.InnerException is { } inner && ex.HttpRequestError == HttpRequestError.SecureConnectionError
            ? $"{ex.Message} {inner.Message}"
            : ex.Message;
        return ApiException.OneLine(message);
    }

    private static JsonSerializerOptions WireOptionsWithoutNulls { get; } =
        new(ContractsJson.WireOptions) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>UTC ISO 8601 with seconds: 2025-06-01T12:00:00Z.</summary>
    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    internal static string QueryString(params (string Name, string? Value)[] parameters)
    {
        var parts = parameters
            .Where(p => !string.IsNullOrEmpty(p.Value))
            .Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}")
            .ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}
