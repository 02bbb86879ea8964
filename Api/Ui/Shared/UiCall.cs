using ManagedServers.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>
/// What a page's action came to: the API handler's own answer (the UI calls the same handlers, so it validates the same
/// way), or its refusal as the API words it: one message per field, shown beside the field, and a message for the form.
/// </summary>
public sealed class UiOutcome
{
    private static readonly Dictionary<string, string[]> None = [];

    public IResult? Result { get; init; }

    public ProblemDetails? Problem { get; init; }

    public bool Ok => Problem is null;

    public IDictionary<string, string[]> Fields => (Problem as HttpValidationProblemDetails)?.Errors ?? None;

    /// <summary>The form's message: the problem's detail, else its title.</summary>
    public string? Message => Problem is null ? null : Problem.Detail ?? Problem.Title;

    /// <summary>The messages for <paramref name="field"/> (the API's JSON name), or null.</summary>
    public string? FieldError(string field) => Fields.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    /// <summary>The value of a success, when it is one of type <typeparamref name="T"/>.</summary>
    public T? Value<T>()
        where T : class => (Result as IValueHttpResult)?.Value as T;
}

public static class UiCall
{
    /// <summary>Runs an API handler and sorts out its answer; domain exceptions become the API's problem.</summary>
    public static async Task<UiOutcome> RunAsync(Func<Task<IResult>> call)
    {
        try
        {
            var result = await call();
            while (result is INestedHttpResult nested)
            {
                result = nested.Result;
            }

            var problem = result switch
            {
                ValidationProblem v => v.ProblemDetails,
                ProblemHttpResult p => p.ProblemDetails,
                _ => null,
            };
            return new UiOutcome { Result = result, Problem = problem };
        }
        catch (Exception e) when (DomainExceptionHandler.Describe(e) is { } problem)
        {
            return new UiOutcome { Problem = problem };
        }
    }
}
