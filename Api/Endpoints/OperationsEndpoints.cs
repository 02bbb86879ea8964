using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Operations;

namespace ManagedServers.Api.Endpoints;

/// <summary>Operations over several servers (a DHCP push to a group or an HA pair): their state, each server's result, their steps.</summary>
public static class OperationsEndpoints
{
    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/operations").WithTags("Jobs").RequireAuthorization(Permissions.JobsRead);
        read.MapGet("/{operationId}", GetAsync).WithName("GetOperation")
            .WithSummary("One operation over several servers: its state, each server's result, and its steps (each a job on one server)");
        return app;
    }

    public static async Task<Results<Ok<OperationView>, ProblemHttpResult>> GetAsync(string operationId, IGrainFactory grains) =>
        OperationIds.IsValid(operationId) && await grains.GetGrain<IOperationGrain>(operationId).GetAsync() is { } operation
            ? TypedResults.Ok(ToView(operation))
            : Problem.NotFound($"operation '{operationId}' not found");

    public static OperationView ToView(OperationSnapshot o) => new(
        o.Id,
        o.Kind,
        o.Summary,
        ServerMapping.Wire(o.State),
        o.CreatedAt,
        o.FinishedAt,
        o.RequestedBy,
        [.. o.Servers.Select(s => new OperationServerView(s.ServerId, ServerMapping.Wire(s.State), s.Error))],
        [.. o.Steps.Select(s => new OperationStepView(s.Stage, s.Group, s.ServerId, s.Label, s.JobKind, ServerMapping.Wire(s.Mode), ServerMapping.Wire(s.State), s.JobId, s.Error))],
        o.Version);
}
