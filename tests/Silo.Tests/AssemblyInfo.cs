// The end-to-end tests drive Linux processes and check Unix file modes.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
