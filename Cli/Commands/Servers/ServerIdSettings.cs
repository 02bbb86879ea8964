using System.ComponentModel;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Servers;

/// <summary>Settings of commands that act on one server given by id or name.</summary>
internal class ServerIdSettings : OutputSettings
{
    [CommandArgument(0, "<ID|NAME>")]
    [Description("Server id, or its exact name")]
    public string Server { get; init; } = "";
}
