using ManagedServers.Api.Auth;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>
/// A settings form: the outcome of its last action (the API handler's refusal, message per field), whether an action is
/// under way, and whether the signed-in person may change settings (viewers see the values read-only).
/// </summary>
public abstract class SettingsPage : UiPage
{
    /// <summary>The last action's outcome: its field messages are shown beside the fields.</summary>
    protected UiOutcome? Outcome { get; set; }

    /// <summary>The changes the last save made (null: none saved since the page opened).</summary>
    protected IReadOnlyList<SettingChange>? Changes { get; set; }

    protected bool Busy { get; set; }

    /// <summary>Admins change settings; others (viewers) see them read-only, without Save Changes.</summary>
    protected bool CanWrite => Can(Permissions.SettingsWrite);

    /// <summary>The outcome's form message to follow "Nothing was saved:" (its first letter lower case).</summary>
    protected string? FormMessage => Outcome?.Message is { Length: > 0 } m ? char.ToLowerInvariant(m[0]) + m[1..] : null;

    protected bool Has(string field) => Outcome?.FieldError(field) is not null;

    /// <summary>The API's messages for <paramref name="field"/> (its JSON name), capitalised, several joined by "; ".</summary>
    protected string? Err(string field) =>
        Outcome is not null && Outcome.Fields.TryGetValue(field, out var messages) && string.Join("; ", messages) is { Length: > 0 } e
            ? char.ToUpperInvariant(e[0]) + e[1..]
            : null;

    /// <summary>Runs an action (a save, a test): its outcome replaces the last one; the last changes are cleared.</summary>
    protected async Task<UiOutcome> CallAsync(Func<Task<IResult>> call)
    {
        Busy = true;
        Changes = null;

        try
        {
            Outcome = await SubmitAsync(() => Outcome = null, call);
            return Outcome;
        }
        finally
        {
            Busy = false;
        }
    }
}
