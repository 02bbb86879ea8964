using MudBlazor;

namespace ManagedServers.Api.Ui.Layout;

/// <summary>
/// The UI's theme: MudBlazor's, with a system font stack (no web fonts: the control plane may have no Internet) and
/// palette colours that keep WCAG AA contrast (4.5:1 for text) in both themes, which MudBlazor's own error red and dark
/// primary do not (the accessibility test checks every page with axe-core).
/// </summary>
internal static class Theme
{
    private static readonly string[] Fonts = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"];

    public static MudTheme Value { get; } = new()
    {
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = Fonts },
        },
        PaletteLight = new PaletteLight
        {
            Primary = "#4338ca",
            AppbarBackground = "#4338ca",
            Error = "#b91c1c",
            Success = "#15803d",
            Warning = "#b45309",
            Info = "#1d4ed8",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#a5b4fc",
            PrimaryContrastText = "#111827",
            AppbarBackground = "#1f2937",
            Error = "#fca5a5",
            ErrorContrastText = "#111827",
            Success = "#86efac",
            Warning = "#fcd34d",
            Info = "#93c5fd",
            InfoContrastText = "#111827",
            TextSecondary = "rgba(255,255,255,0.72)", // labels, helper lines, captions: MudBlazor's 50 % white is below 4.5:1 on dark paper
        },
    };
}
