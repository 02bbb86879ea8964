global using System.Collections.Immutable;
global using ManagedServers.Grains.Interfaces.Servers;
global using Microsoft.Extensions.Logging;
global using Orleans;
global using Orleans.Concurrency;
global using Orleans.Runtime;
