namespace ManagedServers.Grains.Interfaces.Servers;

/// <summary>
/// Creating and deleting a server as one operation each, with its own compensation, for every caller (API, CLI, a
/// web UI, rollouts). Creation claims the name, creates (or binds) the server user and creates the server; a failed
/// step undoes the ones before. Deletion deletes the server (its state, reminders, metric series and index entry),
/// releases the name, deletes its server user and, for an AMQP server, removes its broker user (best effort).
/// A stateless worker (key 0): no state, no hot grain.
/// </summary>
[Alias("ms.IServerLifecycleGrain")]
public interface IServerLifecycleGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Creates a server with a new id. An empty <see cref="ServerDefinition.ServerUser"/> gets a generated user.
    /// <see cref="ConflictException"/> (field <c>name</c> or <c>server_user</c>) when the name is taken or the user
    /// is bound to another server; nothing is left behind then.
    /// </summary>
    Task<ServerSnapshot> CreateAsync(ServerDefinition definition);

    /// <summary>Deletes the server and what belongs to it; <see cref="NotFoundException"/> for an unknown server.</summary>
    Task<ServerDeletion> DeleteAsync(string serverId);

    /// <summary>
    /// Revokes every certificate of the server's agent (the server stays) and, for an AMQP server, removes its broker
    /// user, whose password went to the same agent. <see cref="NotFoundException"/> for an unknown server.
    /// </summary>
    Task<CertificateRevocation> RevokeCertificatesAsync(string serverId);
}

/// <summary>What a revocation did: certificates revoked, and the broker user (null: none to remove; false: the broker could not be reached).</summary>
[GenerateSerializer, Immutable, Alias("ms.CertificateRevocation")]
public sealed record CertificateRevocation([property: Id(0)] ServerSnapshot Server, [property: Id(1)] int Revoked, [property: Id(2)] bool? BrokerUserRemoved);

/// <summary>What a deletion did beyond the server itself: the broker user (null: none to remove; false: the broker could not be reached).</summary>
[GenerateSerializer, Immutable, Alias("ms.ServerDeletion")]
public sealed record ServerDeletion([property: Id(0)] string ServerId, [property: Id(1)] bool? BrokerUserRemoved);
