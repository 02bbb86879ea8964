global using ManagedServers.Contracts.Agent;
global using ManagedServers.Grains.Interfaces.Servers;
global using Xunit;
