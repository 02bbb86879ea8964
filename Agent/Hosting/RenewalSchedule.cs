namespace ManagedServers.Agent.Hosting;

/// <summary>
/// When to renew the client certificate: once <see cref="Fraction"/> (default 2/3) of its lifetime
/// has passed. Pure, so it is tested with a fake clock.
/// </summary>
internal sealed class RenewalSchedule
{
    public const double DefaultFraction = 2.0 / 3.0;

    public RenewalSchedule(double fraction = DefaultFraction)
    {
        if (double.IsNaN(fraction) || fraction is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "must be in (0, 1]");
        }

        Fraction = fraction;
    }

    public double Fraction { get; }

    public DateTimeOffset RenewAt(DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var lifetime = notAfter - notBefore;
        return lifetime <= TimeSpan.Zero ? notBefore : notBefore + (lifetime * Fraction);
    }

    public bool IsDue(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now) => now >= RenewAt(notBefore, notAfter);

    /// <summary>How long to wait from <paramref name="now"/>; zero when renewal is already due.</summary>
    public TimeSpan DelayUntilRenewal(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now)
    {
        var delay = RenewAt(notBefore, notAfter) - now;
        return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
    }
}
