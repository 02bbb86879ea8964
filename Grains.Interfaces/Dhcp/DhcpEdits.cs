namespace ManagedServers.Grains.Interfaces.Dhcp;

/// <summary>
/// One change to a server's DHCP configuration of one family, object by object (what <c>/api/v1/dhcp/…</c> and
/// <c>msctl dhcp …</c> do). An edit that would add a review error is refused with that error and changes nothing.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpEdit")]
public abstract record DhcpEdit;

/// <summary>
/// Adds subnet <see cref="DhcpSubnet.Id"/> (<see cref="Create"/>: refused when the id is taken) or replaces it where it
/// is (on its own or in its shared network; members kept verbatim from an import stay).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpPutSubnet")]
public sealed record DhcpPutSubnet([property: Id(0)] DhcpSubnet Subnet, [property: Id(1)] bool Create) : DhcpEdit;

/// <summary>Removes a subnet with its pools and reservations.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpRemoveSubnet")]
public sealed record DhcpRemoveSubnet([property: Id(0)] long SubnetId) : DhcpEdit;

/// <summary>Adds an address pool (<c>first - last</c> or a prefix) to a subnet.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpAddPool")]
public sealed record DhcpAddPool([property: Id(0)] long SubnetId, [property: Id(1)] DhcpPool Pool) : DhcpEdit;

/// <summary>Removes a subnet's pool, named as it is written (<c>192.0.2.10 - 192.0.2.20</c>; spaces around the dash do not matter).</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpRemovePool")]
public sealed record DhcpRemovePool([property: Id(0)] long SubnetId, [property: Id(1)] string Range) : DhcpEdit;

/// <summary>Adds or replaces (same client) a reservation in a subnet, or a global one (<see cref="SubnetId"/> null).</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpPutReservation")]
public sealed record DhcpPutReservation([property: Id(0)] long? SubnetId, [property: Id(1)] DhcpReservation Reservation) : DhcpEdit;

/// <summary>Removes the reservation of one client (<c>hw-address</c> and its value, …) from a subnet or the global ones.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpRemoveReservation")]
public sealed record DhcpRemoveReservation([property: Id(0)] long? SubnetId, [property: Id(1)] string IdentifierType, [property: Id(2)] string Identifier) : DhcpEdit;

/// <summary>Replaces the option data of a subnet, or the global option data (<see cref="SubnetId"/> null).</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpSetOptions")]
public sealed record DhcpSetOptions([property: Id(0)] long? SubnetId, [property: Id(1)] ImmutableArray<DhcpOption> Options) : DhcpEdit;

/// <summary>Makes the configuration a member of an HA pair (or, with null, no longer one).</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpSetHa")]
public sealed record DhcpSetHa([property: Id(0)] DhcpHa? Ha) : DhcpEdit;

/// <summary>
/// Adds (<see cref="Create"/>: refused when the name is taken) or replaces a shared network: its interface and options,
/// and the subnets on its link (<see cref="SubnetIds"/>: they move into it from wherever they are; on a replace, subnets it
/// held and no longer names go back to standing on their own).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpPutSharedNetwork")]
public sealed record DhcpPutSharedNetwork(
    [property: Id(0)] string Name,
    [property: Id(1)] string? Interface,
    [property: Id(2)] ImmutableArray<DhcpOption> Options,
    [property: Id(3)] ImmutableArray<long> SubnetIds,
    [property: Id(4)] bool Create) : DhcpEdit;

/// <summary>Removes a shared network; its subnets stay, on their own.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpRemoveSharedNetwork")]
public sealed record DhcpRemoveSharedNetwork([property: Id(0)] string Name) : DhcpEdit;

/// <summary>Adds (<see cref="Create"/>: refused when the name is taken) or replaces a client class (members kept verbatim from an import stay).</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpPutClientClass")]
public sealed record DhcpPutClientClass([property: Id(0)] DhcpClientClass Class, [property: Id(1)] bool Create) : DhcpEdit;

/// <summary>Removes a client class; refused while a subnet, pool or reservation names it.</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpRemoveClientClass")]
public sealed record DhcpRemoveClientClass([property: Id(0)] string Name) : DhcpEdit;
