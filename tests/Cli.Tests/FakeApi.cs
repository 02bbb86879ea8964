using System.Collections.Concurrent;
using System.Net;
using System.Text;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Cli.Tests;

/// <summary>
/// A tiny in-memory stand-in for the control plane's REST API, hosted by Kestrel on 127.0.0.1:0.
/// Only for the CLI's unit tests: it follows the documented wire format, not the real server's rules.
/// </summary>
internal sealed class FakeApi : IAsyncDisposable
{
    /// <summary>The body of the last POST /servers.</summary>
    public CreateServerRequest? LastCreate { get; private set; }

    public const string GoodToken = "good-token";

    /// <summary>The 401 detail of a bearer token the control plane does not take (as the real API words it).</summary>
    public const string NotValidDetail = "the token is not valid (revoked, or not issued by this control plane): create a new one (POST /api/v1/tokens, or 'msctl login')";
    public const string User = "admin";
    public const string Password = "s3cret";

    /// <summary>"Now" for heartbeats; tests use the same instant as the CLI's clock.</summary>
    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly WebApplication _app;
    private int _nextId;

    private FakeApi(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public ConcurrentDictionary<string, ServerView> Servers { get; } = new();

    public ConcurrentDictionary<string, TokenView> Tokens { get; } = new();

    /// <summary>Valid bearer tokens.</summary>
    public ConcurrentDictionary<string, bool> ValidTokens { get; } = new(new Dictionary<string, bool> { [GoodToken] = true });

    /// <summary>Every request as "METHOD /path?query".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Authorization header of every request, in order.</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    /// <summary>The RabbitMQ settings as GET shows them; <see cref="RabbitMqPassword"/> is the stored password.</summary>
    public RabbitMqSettingsView RabbitMq { get; set; } = new("", 5672, "/", "", false, false, "", "push");

    public string? RabbitMqPassword { get; set; }

    /// <summary>The password the fake broker accepts in POST /settings/rabbitmq/test.</summary>
    public const string BrokerPassword = "broker-pass";

    /// <summary>Bodies of PUT /settings/rabbitmq and POST /settings/rabbitmq/test ("" when the test had no body).</summary>
    public ConcurrentQueue<string> RabbitMqBodies { get; } = new();

    /// <summary>The monitoring settings as GET shows them.</summary>
    public MonitoringSettingsView Monitoring { get; set; } = new("10.0.0.1", 15, 4, 24, 30, true, "push", true, 5, true, 60, 1440, 400, true, 60, 80, 90);

    /// <summary>Bodies of POST /servers/{id}/push-zones ("" without one).</summary>
    public ConcurrentQueue<string> PushBodies { get; } = new();

    /// <summary>Bodies of PUT /settings/monitoring.</summary>
    public ConcurrentQueue<string> MonitoringBodies { get; } = new();

    /// <summary>Raw system samples by server id, oldest first; the aggregate endpoint aggregates these.</summary>
    public ConcurrentDictionary<string, List<SystemSampleView>> Samples { get; } = new();

    /// <summary>DNS name hits by server id, as GET /monitoring/dns/top answers them (filtered by zone, cut to n).</summary>
    public ConcurrentDictionary<string, List<ManagedServers.Contracts.Agent.DnsNameHits>> DnsHits { get; } = new();

    /// <summary>The last body of GET /monitoring/system/raw or /aggregate.</summary>
    public string? LastMonitoringBody { get; private set; }

    /// <summary>Bodies of POST /tokens.</summary>
    public ConcurrentQueue<CreateTokenRequest> TokenRequests { get; } = new();

    public static byte[] BundleBytes { get; } = Encoding.UTF8.GetBytes("{\n  \"server_id\": \"x\",\n  \"enrollment_token\": \"secret\"\n}\n");

    public static async Task<FakeApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeApi(app);
        fake.Map(app);
        await app.StartAsync();
        fake.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return fake;
    }

    public ServerView AddServer(string name, string kind = "dns", string state = "running", DateTimeOffset? lastHeartbeat = null, string? dnsVersion = null, string? dhcp4Version = null, string? dhcp6Version = null)
    {
        var id = $"srv-{Interlocked.Increment(ref _nextId):D4}";
        var server = new ServerView(
            id, name, kind, $"10.0.0.{_nextId}", "debian-12", "docker", "push", "10.0.0.1", $"{name}-agent", state,
            lastHeartbeat, 7, new ComponentVersions("1.0.0", null, dnsVersion, dhcp4Version, dhcp6Version),
            Now.AddDays(-1), Now.AddHours(-1), null, null, null);
        Servers[id] = server;
        return server;
    }

    /// <summary>Zones by name: the view and the zone-file text as imported.</summary>
    public ConcurrentDictionary<string, (ZoneView View, string Text)> Zones { get; } = new();

    /// <summary>Zones assigned to each server (GET/PUT /servers/{id}/zones, POST/DELETE /servers/{id}/zones/{zone}).</summary>
    public ConcurrentDictionary<string, SortedSet<string>> ServerZones { get; } = new();

    /// <summary>Records added through POST /zones/{zone}/records.</summary>
    public ConcurrentDictionary<string, ZoneRecordView> ZoneRecords { get; } = new();

    private void MapServerZones(RouteGroupBuilder api)
    {
        SortedSet<string> Of(string id) => ServerZones.GetOrAdd(id, _ => new SortedSet<string>(StringComparer.Ordinal));
        IResult View(string id)
        {
            lock (Of(id))
            {
                var zones = Of(id).Select(z => new ServerZoneView(z, Zones.TryGetValue(z, out var v) ? v.View.Serial : null, null, null, "not_pushed")).ToList();
                return Results.Json(new ServerDnsView(id, zones, [], null), ContractsJson.WireOptions);
            }
        }

        IResult ZoneNotFound(string zone) => Results.Problem(title: "Not found", detail: $"zone '{zone}' not found", statusCode: 404);

        api.MapGet("/servers/{id}/zones", (string id) => Servers.ContainsKey(id) ? View(id) : NotFound(id));
        api.MapPut("/servers/{id}/zones", async (string id, HttpRequest request) =>
        {
            var names = await request.ReadFromJsonAsync<string[]>(ContractsJson.WireOptions) ?? [];
            if (names.FirstOrDefault(n => !Zones.ContainsKey(n)) is { } missing)
            {
                return ZoneNotFound(missing);
            }

            lock (Of(id))
            {
                Of(id).Clear();
                Of(id).UnionWith(names);
            }

            return View(id);
        });
        api.MapPost("/servers/{id}/zones/{zone}", (string id, string zone) =>
        {
            if (!Zones.ContainsKey(zone))
            {
                return ZoneNotFound(zone);
            }

            lock (Of(id))
            {
                Of(id).Add(zone);
            }

            return View(id);
        });
        api.MapDelete("/servers/{id}/zones/{zone}", (string id, string zone) =>
        {
            lock (Of(id))
            {
                if (!Of(id).Remove(zone) && !Zones.ContainsKey(zone))
                {
                    return ZoneNotFound(zone);
                }
            }

            return View(id);
        });
    }

    private void MapZones(RouteGroupBuilder api)
    {
        static ZoneView View(string name, long serial, string text) => new(name, serial, text.Split('\n').Length, "00", text.Length, text.Length / 4, Now, Now);
        IResult Import(string name, string? text, bool replace)
        {
            // The fake refuses a file with "BAD" on a line, the way the real API does: one "line N: …" per error on zone_file.
            var lines = (text ?? string.Empty).Split('\n');
            var errors = lines.Select((l, i) => (l, i)).Where(x => x.l.Contains("BAD", StringComparison.Ordinal)).Select(x => $"line {x.i + 1}: A record 'www': '{x.l.Split(' ').Last()}' is not an IPv4 address").ToArray();
            if (errors.Length > 0)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["zone_file"] = errors }, title: "The zone file is not valid");
            }

            if (!replace && Zones.ContainsKey(name))
            {
                return Results.Problem(title: "Conflict", detail: $"zone '{name}' already exists", statusCode: 409);
            }

            // A line with "WARN" is accepted with a warning, the way the real API reports what Knot loads but reports.
            var warnings = lines.Select((l, i) => (l, i)).Where(x => x.l.Contains("WARN", StringComparison.Ordinal)).Select(x => $"line {x.i + 1}: NS record '@': missing glue").ToArray();
            var serial = Zones.TryGetValue(name, out var old) ? old.View.Serial + 1 : 1;
            Zones[name] = (View(name, serial, text ?? string.Empty), text ?? string.Empty);
            var v = Zones[name].View;
            var imported = new ZoneImportView(v.Name, v.Serial, v.RecordCount, v.Sha256, v.Size, v.GzipSize, v.CreatedAt, v.UpdatedAt, warnings, false);
            return replace ? Results.Json(imported, ContractsJson.WireOptions) : Results.Json(imported, ContractsJson.WireOptions, statusCode: 201);
        }

        api.MapPost("/zones", async (HttpRequest request) =>
        {
            var body = (await request.ReadFromJsonAsync<CreateZoneRequest>(ContractsJson.WireOptions))!;
            return Import(body.Name!, body.ZoneFile, replace: false);
        });
        api.MapPut("/zones/{zone}/file", async (string zone, HttpRequest request) =>
            Zones.ContainsKey(zone)
                ? Import(zone, (await request.ReadFromJsonAsync<ZoneFileRequest>(ContractsJson.WireOptions))!.ZoneFile, replace: true)
                : Results.Problem(title: "Not Found", detail: $"zone '{zone}' not found", statusCode: 404));
        api.MapGet("/zones", () => Results.Json(new PageOf<ZoneView>([.. Zones.Values.Select(z => z.View).OrderBy(z => z.Name)], Zones.Count, 1, 20), ContractsJson.WireOptions));
        api.MapGet("/zones/{zone}", (string zone) => Zones.TryGetValue(zone, out var z)
            ? Results.Json(z.View, ContractsJson.WireOptions)
            : Results.Problem(title: "Not Found", detail: $"zone '{zone}' not found", statusCode: 404));
        api.MapGet("/zones/{zone}/export", (string zone) => Zones.TryGetValue(zone, out var z)
            ? Results.Text(z.Text, "text/dns")
            : Results.Problem(title: "Not Found", detail: $"zone '{zone}' not found", statusCode: 404));
        api.MapDelete("/zones/{zone}", (string zone) => Zones.TryRemove(zone, out _)
            ? Results.NoContent()
            : Results.Problem(title: "Not Found", detail: $"zone '{zone}' not found", statusCode: 404));
        api.MapGet("/zones/{zone}/records", (string zone) =>
            Results.Json(new PageOf<ZoneRecordView>([.. ZoneRecords.Values.OrderBy(r => r.Id)], ZoneRecords.Count, 1, 100), ContractsJson.WireOptions));
        api.MapPost("/zones/{zone}/records", async (string zone, HttpRequest request) =>
        {
            var body = (await request.ReadFromJsonAsync<ZoneRecordRequest>(ContractsJson.WireOptions))!;
            if (body.Type == "A" && body.Data?.StartsWith("300.", StringComparison.Ordinal) == true)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["data"] = [$"A record '{body.Name}': '{body.Data}' is not an IPv4 address"] });
            }

            var record = new ZoneRecordView($"r{ZoneRecords.Count + 1}", $"{body.Name}.{zone}.", body.Type!, (int)(body.Ttl ?? 3600), body.Data!);
            ZoneRecords[record.Id] = record;
            var (view, text) = Zones[zone];
            Zones[zone] = (view with { Serial = view.Serial + 1 }, text);
            return Results.Json(new ZoneRecordChangeView(record, view.Serial + 1), ContractsJson.WireOptions, statusCode: 201);
        });
        api.MapDelete("/zones/{zone}/records/{id}", (string zone, string id) =>
        {
            if (!ZoneRecords.TryRemove(id, out _))
            {
                return Results.Problem(title: "Not Found", detail: $"record '{id}' not found in zone '{zone}'", statusCode: 404);
            }

            var (view, text) = Zones[zone];
            Zones[zone] = (view with { Serial = view.Serial + 1 }, text);
            return Results.Json(new ZoneSerialView(view.Serial + 1), ContractsJson.WireOptions);
        });
    }

    private void Map(WebApplication app)
    {
        app.Use(async (ctx, next) =>
        {
            Requests.Enqueue($"{ctx.Request.Method} {ctx.Request.Path}{ctx.Request.QueryString}");
            Authorizations.Enqueue(ctx.Request.Headers.Authorization.ToString());
            var isTokenCreation = ctx.Request.Method == "POST" && ctx.Request.Path == "/api/v1/tokens";
            if (!IsAuthorized(ctx.Request.Headers.Authorization.ToString(), allowBasic: isTokenCreation))
            {
                var bearer = ctx.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal);
                var detail = bearer ? NotValidDetail : "no credentials: send 'Authorization: Bearer <token>' (create one with POST /api/v1/tokens using HTTP Basic, or 'msctl login')";
                await Results.Problem(title: "Unauthorized", detail: detail, statusCode: 401).ExecuteAsync(ctx);
                return;
            }

            await next(ctx);
        });

        var api = app.MapGroup("/api/v1");
        MapZones(api);
        MapServerZones(api);

        api.MapPost("/tokens", async (HttpRequest request) =>
        {
            var body = await request.ReadFromJsonAsync<CreateTokenRequest>(ContractsJson.WireOptions) ?? new CreateTokenRequest();
            TokenRequests.Enqueue(body);
            var id = $"tok-{Interlocked.Increment(ref _nextId):D4}";
            var secret = $"secret-{id}";
            ValidTokens[secret] = true;
            var expires = TokenLifetimes.TryParse(body.ExpiresIn ?? "30d", out var lifetime) && lifetime is { } l ? Now + l : (DateTimeOffset?)null;
            Tokens[id] = new TokenView(id, body.Name ?? "default", User, Now, expires, null);
            return Results.Json(new CreatedToken(secret, id, body.Name ?? "default", User, expires), ContractsJson.WireOptions, statusCode: 201);
        });
        api.MapGet("/tokens", () => Results.Json(Tokens.Values.OrderBy(t => t.Id).ToArray(), ContractsJson.WireOptions));
        api.MapDelete("/tokens/{id}", (string id) =>
        {
            if (!Tokens.TryRemove(id, out _))
            {
                return Results.Problem(title: "Not Found", detail: $"no token {id}", statusCode: 404);
            }

            ValidTokens.TryRemove($"secret-{id}", out _);
            return Results.NoContent();
        });

        api.MapGet("/settings/rabbitmq", () => Results.Json(RabbitMq, ContractsJson.WireOptions));
        api.MapPut("/settings/rabbitmq", async (HttpRequest request) =>
        {
            var text = await new StreamReader(request.Body).ReadToEndAsync();
            RabbitMqBodies.Enqueue(text);
            var u = System.Text.Json.JsonSerializer.Deserialize<RabbitMqSettingsUpdate>(text, ContractsJson.WireOptions)!;
            if (u.Port is < 1 or > 65535)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["port"] = ["must be between 1 and 65535"] });
            }

            RabbitMqPassword = u.Password ?? RabbitMqPassword;
            RabbitMq = new RabbitMqSettingsView(
                u.Host ?? RabbitMq.Host, u.Port ?? RabbitMq.Port, u.VirtualHost ?? RabbitMq.VirtualHost, u.User ?? RabbitMq.User,
                RabbitMqPassword is not null, u.Tls ?? RabbitMq.Tls, u.ManagementUrl ?? RabbitMq.ManagementUrl, u.DefaultCommunication ?? RabbitMq.DefaultCommunication);
            return Results.Json(RabbitMq, ContractsJson.WireOptions);
        });
        api.MapPost("/settings/rabbitmq/test", async (HttpRequest request) =>
        {
            var text = await new StreamReader(request.Body).ReadToEndAsync();
            RabbitMqBodies.Enqueue(text);
            var u = text.Length == 0 ? new RabbitMqSettingsUpdate() : System.Text.Json.JsonSerializer.Deserialize<RabbitMqSettingsUpdate>(text, ContractsJson.WireOptions)!;
            var host = u.Host ?? RabbitMq.Host;
            var port = u.Port ?? RabbitMq.Port;
            var vhost = u.VirtualHost ?? RabbitMq.VirtualHost;
            var result = (u.Password ?? RabbitMqPassword) == BrokerPassword
                ? new RabbitMqTestResult(true, "ok", "Connected.", "3.10.8", host, port, vhost)
                : new RabbitMqTestResult(false, "authentication", $"RabbitMQ at {host}:{port} refused the login of user 'cp': wrong user name or password.", null, host, port, vhost);
            return Results.Json(result, ContractsJson.WireOptions);
        });

        api.MapGet("/settings/monitoring", () => Results.Json(Monitoring, ContractsJson.WireOptions));
        api.MapPut("/settings/monitoring", async (HttpRequest request) =>
        {
            var text = await new StreamReader(request.Body).ReadToEndAsync();
            MonitoringBodies.Enqueue(text);
            var u = System.Text.Json.JsonSerializer.Deserialize<MonitoringSettingsUpdate>(text, ContractsJson.WireOptions)!;
            var errors = new Dictionary<string, string[]>();
            if (u.SystemIntervalSeconds is < 1 or > 3600)
            {
                errors["system_interval_seconds"] = ["must be between 1 and 3600"];
            }

            if (u.RawRetentionMinutes is < 10 or > 44640)
            {
                errors["raw_retention_minutes"] = ["must be between 10 and 44640"];
            }

            if (u.Communication is not (null or "push" or "pull"))
            {
                errors["communication"] = [$"unknown value '{u.Communication}': use push or pull"];
            }

            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            var m = Monitoring;
            Monitoring = new MonitoringSettingsView(
                u.MonitoringApiIp ?? m.MonitoringApiIp, u.HeartbeatIntervalSeconds ?? m.HeartbeatIntervalSeconds, u.HeartbeatMissedLimit ?? m.HeartbeatMissedLimit,
                u.EnrollmentTokenHours ?? m.EnrollmentTokenHours, u.CertificateDays ?? m.CertificateDays, u.VerifyCa ?? m.VerifyCa, u.Communication ?? m.Communication,
                u.SystemMonitoring ?? m.SystemMonitoring, u.SystemIntervalSeconds ?? m.SystemIntervalSeconds, u.DnsMonitoring ?? m.DnsMonitoring,
                u.DnsIntervalSeconds ?? m.DnsIntervalSeconds, u.RawRetentionMinutes ?? m.RawRetentionMinutes, u.AggregateRetentionDays ?? m.AggregateRetentionDays,
                u.DhcpMonitoring ?? m.DhcpMonitoring, u.DhcpIntervalSeconds ?? m.DhcpIntervalSeconds, u.DhcpUtilisationWarning ?? m.DhcpUtilisationWarning,
                u.DhcpUtilisationCritical ?? m.DhcpUtilisationCritical);
            return Results.Json(Monitoring, ContractsJson.WireOptions);
        });

        api.MapGet("/monitoring/system/raw", (string server, DateTimeOffset from, DateTimeOffset to, string? metric) =>
        {
            var items = SamplesIn(server, from, to)
                .Select(s => s with { Metrics = s.Metrics.Where(m => MetricMatches(m.Key, metric)).ToDictionary() })
                .Where(s => s.Metrics.Count > 0)
                .ToList();
            return MonitoringJson(new RawSamplesView(server, from, to, items));
        });
        api.MapGet("/monitoring/dns/top", (string server, string? zone, int? n, DateTimeOffset from, DateTimeOffset to) =>
        {
            if (n is < 1 or > 10_000)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["n"] = ["must be between 1 and 10000"] });
            }

            var items = (DnsHits.TryGetValue(server, out var hits) ? hits : [])
                .Where(h => zone is null || h.Zone == zone)
                .OrderByDescending(h => h.Hits)
                .Take(n ?? 20)
                .ToList();
            return Results.Json(new DnsTopView(server, zone, from, to, items), ContractsJson.WireOptions);
        });
        api.MapGet("/monitoring/system/aggregate", (string server, DateTimeOffset from, DateTimeOffset to, int step, string? metric) =>
        {
            if (step is not (60 or 3600))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["step"] = ["must be 60 or 3600"] });
            }

            var items = SamplesIn(server, from, to)
                .GroupBy(s => DateTimeOffset.FromUnixTimeSeconds(s.Time.ToUnixTimeSeconds() / step * step))
                .Select(bucket => new AggregatePointView(
                    bucket.Key,
                    bucket.SelectMany(s => s.Metrics.Select(m => (s.Time, m.Key, m.Value)))
                        .Where(m => MetricMatches(m.Key, metric))
                        .GroupBy(m => m.Key)
                        .ToDictionary(
                            g => g.Key,
                            g => new AggregateValue(g.Min(m => m.Value), g.Average(m => m.Value), g.Max(m => m.Value), g.MaxBy(m => m.Time).Value, g.Count()))))
                .Where(p => p.Metrics.Count > 0)
                .ToList();
            return MonitoringJson(new AggregateSamplesView(server, step, from, to, items));
        });

        api.MapGet("/servers", (string? q, int? page, int? per_page, string? sort) =>
        {
            IEnumerable<ServerView> items = Servers.Values;
            if (!string.IsNullOrEmpty(q))
            {
                items = items.Where(s => s.Name.Contains(q, StringComparison.OrdinalIgnoreCase));
            }

            items = sort switch
            {
                "-name" => items.OrderByDescending(s => s.Name, StringComparer.Ordinal),
                _ => items.OrderBy(s => s.Name, StringComparer.Ordinal),
            };
            var all = items.ToList();
            int p = page ?? 1, pp = per_page ?? 20;
            var pageItems = all.Skip((p - 1) * pp).Take(pp).ToList();
            return Results.Json(new PageOf<ServerView>(pageItems, all.Count, p, pp), ContractsJson.WireOptions);
        });

        api.MapPost("/servers", async (HttpRequest request) =>
        {
            var body = await request.ReadFromJsonAsync<CreateServerRequest>(ContractsJson.WireOptions);
            LastCreate = body;
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrEmpty(body?.Name) || !body.Name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                errors["name"] = ["must be lowercase letters, digits and '-'"];
            }

            if (body?.Kind is not ("dns" or "dhcp" or "backup"))
            {
                errors["kind"] = ["must be one of dns, dhcp, backup"];
            }

            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            if (Servers.Values.Any(s => s.Name == body!.Name))
            {
                return Results.Problem(title: "Conflict", detail: $"a server named '{body!.Name}' already exists", statusCode: 409);
            }

            var server = AddServer(body!.Name!, body.Kind!, state: "pending");
            return Results.Json(server, ContractsJson.WireOptions, statusCode: 201);
        });

        api.MapGet("/servers/{id}", (string id) => Servers.TryGetValue(id, out var s)
            ? Results.Json(s, ContractsJson.WireOptions)
            : NotFound(id));
        api.MapDelete("/servers/{id}", (string id) => Servers.TryRemove(id, out _) ? Results.NoContent() : NotFound(id));
        api.MapGet("/servers/{id}/setup-bundle", (string id) => Servers.ContainsKey(id)
            ? Results.Bytes(BundleBytes, "application/json", "bundle.json")
            : NotFound(id));
        api.MapPost("/servers/{id}/ping", (string id) => Servers.ContainsKey(id)
            ? Results.Json(new PingResult(id, true, 12.34, "1.2.3", null), ContractsJson.WireOptions)
            : NotFound(id));

        // Jobs: every action starts the next scripted job; each GET /jobs/{id} answers its next snapshot.
        IResult StartJob(string id, string kind, string? service) =>
            Servers.ContainsKey(id) ? Results.Json(NextJob(id, kind, service), ContractsJson.WireOptions, statusCode: 202) : NotFound(id);
        api.MapPost("/servers/{id}/services", async (string id, HttpRequest request) =>
        {
            var body = await System.Text.Json.JsonSerializer.DeserializeAsync<AddServiceRequest>(request.Body, ContractsJson.WireOptions);
            return StartJob(id, "add_service", body?.Kind);
        });
        api.MapPost("/servers/{id}/services/{service}/{action}", (string id, string service, string action) => StartJob(id, action + "_service", service));
        api.MapDelete("/servers/{id}/services/{service}", (string id, string service) => StartJob(id, "remove_service", service));
        api.MapPost("/servers/{id}/diagnostics", (string id) => StartJob(id, "diagnostics", null));
        api.MapPost("/servers/{id}/push-zones", async (string id, HttpRequest request) =>
        {
            PushBodies.Enqueue(await new StreamReader(request.Body).ReadToEndAsync());
            return StartJob(id, "push_zones", "dns");
        });
        api.MapGet("/jobs/{jobId}", (string jobId) =>
        {
            if (!JobScripts.TryGetValue(jobId, out var script))
            {
                return Results.Problem(title: "Not Found", detail: $"job '{jobId}' not found", statusCode: 404);
            }

            var view = script.Count > 1 ? script.Dequeue() : script.Peek();
            return Results.Json(view, ContractsJson.WireOptions);
        });
    }

    /// <summary>
    /// Scripts for the next jobs, in order: the snapshots GET /jobs/{id} answers (the last one repeats). The first
    /// snapshot is also the 202 answer of the action. Job ids, server ids and kinds are filled in.
    /// </summary>
    public ConcurrentQueue<JobView[]> NextJobScripts { get; } = new();

    private readonly ConcurrentDictionary<string, Queue<JobView>> JobScripts = new();

    private JobView NextJob(string serverId, string kind, string? service)
    {
        var jobId = $"{serverId}-job-{JobScripts.Count + 1}";
        var script = NextJobScripts.TryDequeue(out var s) ? s : [Job("succeeded", 100)];
        var queue = new Queue<JobView>(script.Select(j => j with { JobId = jobId, ServerId = serverId, Kind = kind, Service = service }));
        JobScripts[jobId] = queue;
        return queue.Dequeue();
    }

    /// <summary>A job snapshot for scripts; steps are "step 1".."step N" by progress tenths, plus the state.</summary>
    public static JobView Job(string state, int progress, long version = 0, System.Text.Json.JsonElement? result = null, string? error = null, params string[] steps) => new(
        "", "", "", null, state, progress, Now, null, null, Now.AddMinutes(10),
        [.. steps.Select(m => new JobStepView(Now, m))], result, error, null, version);

    private IEnumerable<SystemSampleView> SamplesIn(string server, DateTimeOffset from, DateTimeOffset to) =>
        Samples.TryGetValue(server, out var list) ? list.Where(s => s.Time >= from && s.Time < to).OrderBy(s => s.Time) : [];

    /// <summary>The API's metric filter: comma-separated names, or prefixes ending in '*'.</summary>
    private static bool MetricMatches(string name, string? filter) =>
        string.IsNullOrEmpty(filter) || filter.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Any(f =>
            f.EndsWith('*') ? name.StartsWith(f[..^1], StringComparison.Ordinal) : name == f);

    private IResult MonitoringJson<T>(T view)
    {
        LastMonitoringBody = System.Text.Json.JsonSerializer.Serialize(view, ContractsJson.WireOptions);
        return Results.Text(LastMonitoringBody, "application/json");
    }

    private static IResult NotFound(string id) =>
        Results.Problem(title: "Not Found", detail: $"no server with id '{id}'", statusCode: (int)HttpStatusCode.NotFound);

    private bool IsAuthorized(string header, bool allowBasic)
    {
        if (header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return ValidTokens.ContainsKey(header["Bearer ".Length..]);
        }

        if (allowBasic && header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
            return decoded == $"{User}:{Password}";
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
