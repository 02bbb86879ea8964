using ManagedServers.Grains.Interfaces.Servers;

namespace ManagedServers.Grains.Interfaces.Zones;

/// <summary>
/// One problem with zone input. <see cref="Line"/>: the zone-file line (from 1), or 0 for a record given by fields;
/// <see cref="Field"/>: the request field it is about (<c>zone_file</c>, or <c>name</c>/<c>type</c>/<c>ttl</c>/<c>data</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneError")]
public sealed record ZoneError([property: Id(0)] int Line, [property: Id(1)] string Field, string Message)
{
    /// <summary>The message, with what it quotes of the input bounded (<see cref="Contracts.Excerpt"/>).</summary>
    [Id(2)]
    public string Message { get; init; } = Contracts.Excerpt.Bound(Message);

    /// <summary>"line 12: …" for zone-file errors, the bare message otherwise.</summary>
    public override string ToString() => Line > 0 ? $"line {Line}: {Message}" : Message;
}

/// <summary>Zone input was refused: nothing was stored. <see cref="Errors"/> holds up to 100 problems, in line order.</summary>
[GenerateSerializer, Alias("ms.ZoneValidationException")]
public sealed class ZoneValidationException : DomainException
{
    public ZoneValidationException()
    {
    }

    public ZoneValidationException(string message)
        : base(message)
    {
    }

    public ZoneValidationException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public ZoneValidationException(string message, ImmutableArray<ZoneError> errors, bool truncated = false)
        : base(message)
    {
        Errors = errors;
        Truncated = truncated;
    }

    [Id(0)]
    public ImmutableArray<ZoneError> Errors { get; init; } = [];

    /// <summary>More errors were found than <see cref="Errors"/> holds.</summary>
    [Id(1)]
    public bool Truncated { get; init; }
}
