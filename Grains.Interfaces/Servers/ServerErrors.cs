namespace ManagedServers.Grains.Interfaces.Servers;

/// <summary>Base of the domain errors the API maps to problem details in one place.</summary>
[GenerateSerializer, Alias("ms.DomainException")]
public class DomainException : Exception
{
    public DomainException()
    {
    }

    public DomainException(string message)
        : base(Contracts.Excerpt.Bound(message))
    {
    }

    public DomainException(string message, Exception inner)
        : base(Contracts.Excerpt.Bound(message), inner)
    {
    }

    /// <summary>Field the error is about, when there is one.</summary>
    [Id(0)]
    public string? Field { get; init; }
}

/// <summary>The thing asked for does not exist.</summary>
[GenerateSerializer, Alias("ms.NotFoundException")]
public sealed class NotFoundException : DomainException
{
    public NotFoundException()
    {
    }

    public NotFoundException(string message)
        : base(message)
    {
    }

    public NotFoundException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>The request clashes with existing state (duplicate name, already created, ...).</summary>
[GenerateSerializer, Alias("ms.ConflictException")]
public sealed class ConflictException : DomainException
{
    public ConflictException()
    {
    }

    public ConflictException(string message)
        : base(message)
    {
    }

    public ConflictException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>An enrolment token was refused: <see cref="Reason"/> says why.</summary>
[GenerateSerializer, Alias("ms.EnrollmentRefusedException")]
public sealed class EnrollmentRefusedException : DomainException
{
    public EnrollmentRefusedException()
    {
    }

    public EnrollmentRefusedException(string message)
        : base(message)
    {
    }

    public EnrollmentRefusedException(string message, Exception inner)
        : base(message, inner)
    {
    }

    [Id(0)]
    public EnrollmentRefusal Reason { get; init; }
}

/// <summary>Why an enrolment token was refused.</summary>
public enum EnrollmentRefusal
{
    Invalid,
    Expired,
    AlreadyUsed,
    ServerDeleted,
}
