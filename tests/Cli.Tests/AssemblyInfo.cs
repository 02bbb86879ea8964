using System.Runtime.Versioning;

// File modes (0600/0700) are asserted with the Unix file mode APIs; the CLI's tests run on Linux and macOS.
[assembly: UnsupportedOSPlatform("windows")]
