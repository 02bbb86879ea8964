namespace ManagedServers.Api.Ui.Shared;

/// <summary>Reading a refusal's field messages for a form whose inputs stand for a field and its items.</summary>
public static class UiFields
{
    /// <summary>The messages for <paramref name="field"/> and its items or members (<c>pools</c>: <c>pools</c>, <c>pools[1]</c>; <c>options</c>: <c>options[0].name</c>), or null.</summary>
    public static string? Error(UiOutcome? outcome, string field)
    {
        if (outcome is null || outcome.Ok)
        {
            return null;
        }

        var messages = outcome.Fields
            .Where(f => f.Key == field || f.Key.StartsWith(field + "[", StringComparison.Ordinal) || f.Key.StartsWith(field + ".", StringComparison.Ordinal))
            .SelectMany(f => f.Value)
            .ToList();
        return messages.Count == 0 ? null : string.Join(" ", messages);
    }

    /// <summary>What a form shows above or below its inputs: the field messages it has no input for, else the problem's own words.</summary>
    public static string Unplaced(UiOutcome refused) =>
        refused.Fields.Count > 0 ? string.Join(" ", refused.Fields.SelectMany(f => f.Value)) : refused.Message ?? "refused";
}
