using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Broker;
using ManagedServers.Api.Endpoints;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Api.Ui;
using ManagedServers.Grains.Interfaces.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Scalar.AspNetCore;

namespace ManagedServers.Api;

/// <summary>Registers and maps the REST API. The API talks to grains only.</summary>
public static class ApiSetup
{
    public const string OpenApiPath = "/api/v1/openapi.json";

    public static IServiceCollection AddManagedServersApi(this IServiceCollection services)
    {
        services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            ctx.ProblemDetails.Detail ??= ctx.ProblemDetails.Status switch
            {
                401 or 429 => AuthNames.FailureOf(ctx.HttpContext) ?? "no credentials: send 'Authorization: Bearer <token>' (create one with POST /api/v1/tokens using HTTP Basic, or 'msctl login')",
                415 => UnsupportedMediaType(ctx.HttpContext),
                403 => "your groups do not allow this action",
                404 => $"no resource at {ctx.HttpContext.Request.Path}",
                _ => null,
            };
        });
        services.AddExceptionHandler<DomainExceptionHandler>();
        services.AddOpenApi(ApiDocument.Configure);
        TokenOptions.Register(services);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, LoginThrottleResultHandler>();
        services.AddSingleton<CertificateIssuer>();
        services.AddSingleton<AgentListenerTls>();
        services.AddSingleton<IBrokerSettingsSource, GrainBrokerSettingsSource>();
        services.AddSingleton<AgentBrokerAccounts>();

        var authentication = services.AddAuthentication(AuthNames.BearerScheme)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(AuthNames.BearerScheme, null)
            .AddScheme<AuthenticationSchemeOptions, BasicAuthenticationHandler>(AuthNames.BasicScheme, null)
            .AddScheme<AuthenticationSchemeOptions, AgentCertificateHandler>(AuthNames.AgentScheme, null);
        services.AddManagedServersUi(authentication);
        services.AddAuthorizationBuilder()
            .AddPermissionPolicies()
            .AddPolicy(AuthNames.TokenCreation, p => p.AddAuthenticationSchemes(AuthNames.BasicScheme, AuthNames.BearerScheme).RequireRole(Groups.Admins, Groups.Viewers))
            .AddPolicy(AuthNames.Agent, p => p.AddAuthenticationSchemes(AuthNames.AgentScheme).RequireRole(Groups.Servers).RequireClaim(AuthNames.ServerIdClaim))
            .AddUiPolicy();
        return services;
    }

    /// <summary>A body in a format the endpoint does not take (a form, text): say what it takes.</summary>
    private static string UnsupportedMediaType(HttpContext context)
    {
        var accepts = context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.ContentTypes;
        var expected = accepts is { Count: > 0 } ? string.Join(" or ", accepts) : "application/json";
        var sent = context.Request.ContentType is { Length: > 0 } type ? $"'{type}'" : "no Content-Type";
        return $"send {expected} (with 'Content-Type: {expected.Split(' ')[0]}'), not {sent}";
    }

    public static WebApplication UseManagedServersApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseListenerAudiences();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        // Who asked travels with every grain call of the request (Orleans request context): jobs record it as requested_by.
        app.Use((context, next) =>
        {
            if (context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name })
            {
                Caller.Set(name);
            }

            return next(context);
        });

        app.MapOpenApi(OpenApiPath).AllowAnonymous();
        app.MapScalarApiReference("/api/docs", ApiDocument.ConfigureDocsPage).AllowAnonymous();
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" })).AllowAnonymous().ExcludeFromDescription();

        app.MapServersApi();
        app.MapCertificatesApi();
        app.MapCommandsApi();
        app.MapServicesApi();
        app.MapServerDnsApi();
        app.MapServerDhcpApi();
        app.MapDhcpObjectsApi();
        app.MapZonesApi();
        app.MapJobsApi();
        app.MapOperationsApi();
        app.MapAgentApi();
        app.MapMonitoringApi();
        app.MapDnsMonitoringApi();
        app.MapDhcpMonitoringApi();
        app.MapPrometheusApi();
        app.MapSettingsApi();
        app.MapIdentityApi();
        app.MapManagedServersUi();
        return app;
    }

    /// <summary>
    /// The API's JSON: snake_case, enums as strings, the source-generated contracts. A field a request type does not
    /// have is refused (400 naming it: a typo such as "comunication" must not be ignored), except in the messages agents
    /// send (<see cref="Contracts.Agent"/>), which a newer agent may extend before its control plane is upgraded.
    /// </summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.TypeInfoResolverChain.Insert(0, Contracts.ContractsJson.Default);
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.TypeInfoResolver = options.TypeInfoResolver!.WithAddedModifier(static info =>
        {
            if (info.Kind == JsonTypeInfoKind.Object && info.Type.Namespace == typeof(Contracts.Agent.Heartbeat).Namespace)
            {
                info.UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip;
            }
        });
    }
}
