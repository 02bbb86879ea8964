using MudBlazor;

namespace ManagedServers.Api.Ui.Layout;

/// <summary>The UI's theme: MudBlazor's defaults with a system font stack (no web fonts: the control plane may have no Internet).</summary>
internal static class Theme
{
    private static readonly string[] Fonts = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"];

    public static MudTheme Value { get; } = new()
    {
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = Fonts },
        },
    };
}
