using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ManagedServers.Agent.Collectors;

/// <summary>Size and inode counts of a mounted filesystem, as <c>statvfs(3)</c> reports them.</summary>
/// <param name="FragmentSize">Unit of the block counts (<c>f_frsize</c>).</param>
/// <param name="Blocks">Size in units (<c>f_blocks</c>).</param>
/// <param name="BlocksFree">Free units, including those reserved for root (<c>f_bfree</c>).</param>
/// <param name="BlocksAvailable">Units free for unprivileged users (<c>f_bavail</c>).</param>
/// <param name="Files">Inodes (<c>f_files</c>; 0 when the filesystem has no fixed number, e.g. btrfs).</param>
/// <param name="FilesFree">Free inodes (<c>f_ffree</c>).</param>
internal readonly record struct DiskStats(ulong FragmentSize, ulong Blocks, ulong BlocksFree, ulong BlocksAvailable, ulong Files, ulong FilesFree);

/// <summary><c>statvfs(3)</c> through a source-generated P/Invoke (trim and AOT safe). 64-bit Linux only.</summary>
internal static partial class StatVfs
{
    /// <summary>Stats of the filesystem mounted at <paramref name="path"/>; throws <see cref="IOException"/> on failure.</summary>
    public static DiskStats Get(string path)
    {
        if (!OperatingSystem.IsLinux() || IntPtr.Size != 8)
        {
            throw new PlatformNotSupportedException("statvfs is only used on 64-bit Linux");
        }

        if (NativeStatVfs(path, out var buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"statvfs({path}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }

        var fragment = buffer.FragmentSize != 0 ? buffer.FragmentSize : buffer.BlockSize;
        return new DiskStats(fragment, buffer.Blocks, buffer.BlocksFree, buffer.BlocksAvailable, buffer.Files, buffer.FilesFree);
    }

    // "libc" is mapped by the runtime to the platform's C library (libc.so.6 on glibc; musl resolves it itself).
    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeStatVfs(string path, out StatVfsBuffer buffer);

    /// <summary>
    /// <c>struct statvfs</c> on 64-bit Linux (glibc and musl, x86-64 and arm64): eleven 64-bit fields and
    /// 24 bytes of padding, 112 bytes; the struct here is larger so the call never writes past it.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct StatVfsBuffer
    {
        public ulong BlockSize;
        public ulong FragmentSize;
        public ulong Blocks;
        public ulong BlocksFree;
        public ulong BlocksAvailable;
        public ulong Files;
        public ulong FilesFree;
        public ulong FilesAvailable;
        public ulong FsId;
        public ulong Flags;
        public ulong NameMax;
        public Spare Spare;
    }

    [InlineArray(8)]
    private struct Spare
    {
        private ulong _element;
    }
}
