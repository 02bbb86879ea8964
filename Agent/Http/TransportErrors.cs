using System.Net.Sockets;
using System.Security.Authentication;
using System.Text.Json;
using ManagedServers.Agent.Security;

namespace ManagedServers.Agent.Http;

/// <summary>Turns transport exceptions into one readable line, e.g. <c>connection refused by 127.0.0.1:5001</c>.</summary>
internal static class TransportErrors
{
    public static string Describe(Exception exception, Uri uri, CaTrust? trust = null)
    {
        var endpoint = uri.Authority;
        switch (exception)
        {
            case AgentException or ControlPlaneException:
                return exception.Message;
            case OperationCanceledException or TimeoutException:
                return $"timed out talking to {endpoint}";
            case JsonException json:
                return $"the control plane sent an unreadable answer: {json.Message}";
        }

        var socket = Find<SocketException>(exception);
        if (socket is not null)
        {
            return socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => $"connection refused by {endpoint}",
                SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => $"cannot resolve host '{uri.Host}'",
                SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.NetworkDown => $"{endpoint} is unreachable",
                SocketError.TimedOut => $"timed out connecting to {endpoint}",
                SocketError.ConnectionReset or SocketError.ConnectionAborted => $"connection to {endpoint} was reset",
                _ => $"cannot connect to {endpoint}: {socket.Message}",
            };
        }

        if (Find<AuthenticationException>(exception) is { } tls)
        {
            return $"TLS handshake with {endpoint} failed: {trust?.LastFailure ?? tls.Message}";
        }

        if (exception is HttpRequestException http)
        {
            return http.HttpRequestError switch
            {
                HttpRequestError.NameResolutionError => $"cannot resolve host '{uri.Host}'",
                HttpRequestError.SecureConnectionError => $"TLS handshake with {endpoint} failed: {trust?.LastFailure ?? http.Message}",
                HttpRequestError.ConnectionError => $"cannot connect to {endpoint}: {http.Message}",
                _ => $"request to {endpoint} failed: {http.Message}",
            };
        }

        return exception.Message;
    }

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }
}
