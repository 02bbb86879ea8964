using System.Globalization;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>
/// One setting a save changed: its label with the old and the new value as people read them; a secret (a password) is
/// only said to have changed, its values are never carried.
/// </summary>
public sealed record SettingChange(string Label, string? Old, string? New)
{
    public bool Secret { get; init; }

    /// <summary>"Password changed": no values.</summary>
    public static SettingChange SecretChanged(string label) => new(label, null, null) { Secret = true };
}

/// <summary>A setting of <typeparamref name="T"/> as a form shows it: its label and how to read its value.</summary>
public sealed record SettingField<T>(string Label, Func<T, object?> Value);

/// <summary>What changed between two views of the same settings, field by field, in the fields' order.</summary>
public static class SettingChanges
{
    /// <summary>The fields whose shown value differs between <paramref name="before"/> and <paramref name="after"/>.</summary>
    public static IReadOnlyList<SettingChange> Between<T>(T before, T after, IEnumerable<SettingField<T>> fields) =>
        [.. fields
            .Select(f => (f.Label, Old: Text(f.Value(before)), New: Text(f.Value(after))))
            .Where(c => !string.Equals(c.Old, c.New, StringComparison.Ordinal))
            .Select(c => new SettingChange(c.Label, c.Old, c.New))];

    /// <summary>How a value is written: on/off for a switch, numbers with group separators, a dash for nothing.</summary>
    public static string Text(object? value) => value switch
    {
        null => Show.Nothing,
        bool b => b ? "on" : "off",
        int i => i.ToString("N0", CultureInfo.InvariantCulture),
        long l => l.ToString("N0", CultureInfo.InvariantCulture),
        IEnumerable<string> list => Show.Or(string.Join(", ", list)),
        _ => Show.Or(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };
}
