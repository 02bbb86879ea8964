using System.Text.Json;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Api.Endpoints;

/// <summary>
/// /api/v1/servers/{id}/commands: send a command to a server's agent without waiting for it, then
/// follow it. The grain saves a command before it is delivered (long poll or RabbitMQ), so it survives
/// a silo crash; the agent applies a command id once, so a redelivery does not run it twice.
/// </summary>
public static class CommandsEndpoints
{
    private static readonly string[] Kinds = [CommandKinds.Ping];

    public static IEndpointRouteBuilder MapCommandsApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/servers/{id}/commands").WithTags("Servers").RequireAuthorization(Permissions.ServersRead);
        var write = app.MapGroup("/api/v1/servers/{id}/commands").WithTags("Servers").RequireAuthorization(Permissions.ServersWrite);
        write.MapPost("/", SendAsync).WithName("SendCommand").WithSummary("Queue a command for the server's agent (202; follow it with GET)");
        read.MapGet("/{commandId}", GetAsync).WithName("GetCommand").WithSummary("A command's state; ?wait_seconds=N waits up to N s for its result");
        return app;
    }

    public static async Task<Results<Accepted<CommandView>, ValidationProblem, ProblemHttpResult>> SendAsync(string id, SendCommandRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(body.Kind))
        {
            errors.Add("kind", $"is required: one of {string.Join(", ", Kinds)}");
        }
        else if (!Kinds.Contains(body.Kind))
        {
            errors.Add("kind", $"unknown kind '{body.Kind}': use one of {string.Join(", ", Kinds)}");
        }

        if (body.TimeoutSeconds is < 1 or > 86_400)
        {
            errors.Add("timeout_seconds", "must be between 1 and 86400");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var grain = grains.GetGrain<IManagedServerGrain>(id);
        if (await grain.GetAsync() is null)
        {
            return Problem.NotFound($"server '{id}' not found");
        }

        var commandId = await grain.EnqueueCommandAsync(body.Kind!, body.Args is { } args ? args.GetRawText() : null, TimeSpan.FromSeconds(body.TimeoutSeconds ?? 300));
        var status = await grain.WaitForCommandResultAsync(commandId, TimeSpan.Zero);
        return TypedResults.Accepted($"/api/v1/servers/{id}/commands/{commandId}", ToView(status));
    }

    public static async Task<Results<Ok<CommandView>, ValidationProblem, ProblemHttpResult>> GetAsync(string id, string commandId, IGrainFactory grains, int? wait_seconds = null)
    {
        if (wait_seconds is < 0 or > 60)
        {
            var errors = new FieldErrors();
            errors.Add("wait_seconds", "must be between 0 and 60");
            return errors.ToProblem();
        }

        var grain = grains.GetGrain<IManagedServerGrain>(id);
        if (await grain.GetAsync() is null)
        {
            return Problem.NotFound($"server '{id}' not found");
        }

        try
        {
            return TypedResults.Ok(ToView(await grain.WaitForCommandResultAsync(commandId, TimeSpan.FromSeconds(wait_seconds ?? 0))));
        }
        catch (NotFoundException e)
        {
            return Problem.NotFound(e.Message);
        }
    }

    private static CommandView ToView(CommandStatus status) => new(
        status.CommandId,
        status.Kind,
        ServerMapping.Wire(status.State),
        status.CreatedAt,
        status.CompletedAt,
        status.Error,
        status.OutputJson is null ? null : JsonDocument.Parse(status.OutputJson).RootElement.Clone());
}
