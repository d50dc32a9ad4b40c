using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// The lock of one project's obj/&lt;Configuration&gt;/ folder: a byte-range lock on <c>microtvm.lock</c>, whose text is
    /// the holder's process id. The operating system drops the lock when its process ends, however it ends, so a lock
    /// left by a killed build is simply taken over; the range lies past the id, so a waiting build can read who holds it.
    /// </summary>
    internal sealed class BuildLock : IDisposable
    {
        private const long RegionStart = 1L << 20;

        private readonly FileStream stream;

        private BuildLock(FileStream stream) => this.stream = stream;

        /// <summary>The lock, or null while another process holds it.</summary>
        public static BuildLock? TryAcquire(string path)
        {
            FileStream? stream = null;
            try
            {
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
                try
                {
#pragma warning disable CA1416 // Handled: macOS has no byte-range locks in .NET.
                    stream.Lock(RegionStart, 1);
#pragma warning restore CA1416
                }
                catch (PlatformNotSupportedException)
                {
                    // macOS: the whole file, exclusively (the waiting build cannot read the id then).
                    stream.Dispose();
                    stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
            }
            catch (IOException)
            {
                stream?.Dispose();
                return null;
            }
            byte[] id = Encoding.ASCII.GetBytes(CurrentProcessId().ToString(CultureInfo.InvariantCulture) + "\n");
            stream.SetLength(0);
            stream.Write(id, 0, id.Length);
            stream.Flush();
            return new BuildLock(stream);
        }

        /// <summary>The process id written by the holder, or null when it cannot be read.</summary>
        public static int? ReadHolder(string path)
        {
            try
            {
                using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                {
                    var buffer = new byte[32];
                    int length = stream.Read(buffer, 0, buffer.Length);
                    return int.TryParse(Encoding.ASCII.GetString(buffer, 0, length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int id)
                        ? id : (int?)null;
                }
            }
            catch (IOException)
            {
                return null;
            }
        }

        public void Dispose() => stream.Dispose();

        private static int CurrentProcessId()
        {
            using (var process = Process.GetCurrentProcess())
            {
                return process.Id;
            }
        }
    }

    /// <summary>
    /// Takes the project's build lock (<see cref="BuildLock"/>) before the build writes into obj/, waiting with a message
    /// while another build of the same project holds it, up to <see cref="TimeoutSeconds"/> (then MTVM0121). Two builds of
    /// one project at once would otherwise compile and link each other's half-written files. Held until
    /// <see cref="MicroTvmReleaseBuildLock"/> or, after a failure, the end of the build.
    /// </summary>
    public sealed class MicroTvmAcquireBuildLock : Task, ICancelableTask
    {
        private readonly CancellationTokenSource cancellation = new CancellationTokenSource();

        [Required]
        public string LockFile { get; set; } = "";

        /// <summary>The project, which the timeout error names.</summary>
        public string? ProjectFile { get; set; }

        /// <summary>How long to wait for another build; 0 waits as long as it takes.</summary>
        public int TimeoutSeconds { get; set; } = 300;

        public void Cancel() => cancellation.Cancel();

        internal static string Key(string path) => "MicroTvm.BuildLock:" + path;

        public override bool Execute()
        {
            string path = Path.GetFullPath(LockFile);
            if (BuildEngine4.GetRegisteredTaskObject(Key(path), RegisteredTaskObjectLifetime.Build) != null)
            {
                return true; // This build holds it already.
            }
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var waited = Stopwatch.StartNew();
            int? holder = null;
            while (true)
            {
                var held = BuildLock.TryAcquire(path);
                if (held != null)
                {
                    BuildEngine4.RegisterTaskObject(Key(path), held, RegisteredTaskObjectLifetime.Build, allowEarlyCollection: false);
                    if (holder != null)
                    {
                        Log.LogMessage(MessageImportance.High, "  The other build finished after {0:0.0} s; building.", waited.Elapsed.TotalSeconds);
                    }
                    return true;
                }
                int? current = BuildLock.ReadHolder(path);
                if (holder == null || (current != null && current != holder))
                {
                    holder = current ?? 0;
                    Log.LogMessage(MessageImportance.High, "  Waiting for another build of this project (process {0}) to finish: it holds {1}.",
                        current?.ToString(CultureInfo.InvariantCulture) ?? "?", path);
                }
                if (TimeoutSeconds > 0 && waited.Elapsed.TotalSeconds >= TimeoutSeconds)
                {
                    Log.LogError(null, ErrorCodes.BuildLockTimeout, ErrorCodes.HelpLink, ProjectFile ?? BuildEngine.ProjectFileOfTaskNode, 0, 0, 0, 0,
                        "Another build of this project (process {0}) has held {1} for {2} s (MicroTvmBuildLockTimeout). Wait for it to finish, or end it, and build again.",
                        current?.ToString(CultureInfo.InvariantCulture) ?? "?", path, TimeoutSeconds);
                    return false;
                }
                if (cancellation.Token.WaitHandle.WaitOne(200))
                {
                    return false;
                }
            }
        }
    }

    /// <summary>Releases the build lock once the firmware is linked and reported (a failed build releases it when it ends).</summary>
    public sealed class MicroTvmReleaseBuildLock : Task
    {
        [Required]
        public string LockFile { get; set; } = "";

        public override bool Execute()
        {
            var held = BuildEngine4.UnregisterTaskObject(MicroTvmAcquireBuildLock.Key(Path.GetFullPath(LockFile)), RegisteredTaskObjectLifetime.Build);
            (held as IDisposable)?.Dispose();
            return true;
        }
    }
}
