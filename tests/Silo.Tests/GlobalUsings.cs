global using ManagedServers.Contracts;
global using ManagedServers.Contracts.Agent;
global using ManagedServers.Contracts.Api;
global using Xunit;
