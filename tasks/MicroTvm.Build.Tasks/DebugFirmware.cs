using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// -t:Debug: a gdb server for the firmware, then either a debugger of the user's (gdb-multiarch, VS Code) or, with
    /// <see cref="GdbScript"/>, a gdb-multiarch batch session the build runs and logs. Emulated boards: the same sandboxed
    /// QEMU as -t:Run (<see cref="FirmwareRun"/>), stopped at reset, its gdb stub reached through the semihosting guard's
    /// proxy on 127.0.0.1:<see cref="Port"/>. Real boards: the flash runner's gdb server (openocd, pyocd, JLinkGDBServer,
    /// st-util) with the board's arguments, started with an argument list as -t:Flash starts runners. The session ends
    /// when the debugger kills or leaves the firmware and it ends, when the script's gdb exits, on Ctrl+C, or after
    /// <see cref="TimeoutSeconds"/>.
    /// </summary>
    public sealed class MicroTvmDebugFirmware : Task, ICancelableTask
    {
        private volatile bool cancelled;

        [Required]
        public string FirmwareFile { get; set; } = "";

        /// <summary>Emulated boards: the emulator and its arguments (those of -t:Run).</summary>
        public string? EmulatorPath { get; set; }

        public string[] EmulatorArguments { get; set; } = Array.Empty<string>();

        /// <summary>Real boards: the runner's gdb server and its arguments ({elf}, {port} replaced inside arguments).</summary>
        public string? ServerPath { get; set; }

        public string? ServerArguments { get; set; }

        /// <summary>The gdb port: the emulator's proxy listens there (0: any free port); a real board's server is told it.</summary>
        public int Port { get; set; }

        /// <summary>A file of gdb commands run in batch mode once the server is up; empty: wait for a debugger.</summary>
        public string? GdbScript { get; set; }

        public string? GdbPath { get; set; }

        /// <summary>Wall-clock limit in seconds; 0 means none.</summary>
        public int TimeoutSeconds { get; set; }

        [Required]
        public string WorkingDirectory { get; set; } = "";

        [Required]
        public string ProjectFile { get; set; } = "";

        public string? Board { get; set; }

        public string? AddressToLinePath { get; set; }

        /// <summary>The port the session used (the one chosen when <see cref="Port"/> is 0).</summary>
        [Output]
        public int UsedPort { get; set; }

        public void Cancel() => cancelled = true;

        public override bool Execute() =>
            !string.IsNullOrEmpty(EmulatorPath) ? DebugInEmulator() : DebugWithServer();

        private bool DebugInEmulator()
        {
            GdbBatch? gdb = null;
            var session = new DebugSession(Port, port =>
            {
                UsedPort = port;
                LiveOutput.Line(this, $"{Board}: the firmware waits at its reset vector for a debugger on 127.0.0.1:{port} (the emulator's gdb stub; semihosting host calls are refused as under -t:Run).");
                gdb = StartGdb(port);
            }, () => gdb != null && gdb.Ended);
            FirmwareRunResult result;
            try
            {
                result = FirmwareRun.Run(EmulatorPath!, EmulatorArguments, FirmwareFile, TimeoutSeconds, WorkingDirectory,
                    commandLine => Log.LogCommandLine(MessageImportance.Normal, commandLine),
                    line => LiveOutput.Line(this, "  | " + line),
                    () => cancelled, AddressToLinePath, session);
            }
            finally
            {
                gdb?.Stop();
            }
            if (result.Cancelled)
            {
                return false;
            }
            if (!result.Succeeded)
            {
                return Fail(result.ErrorCode!, result.ErrorText + result.ConsoleTail(), result.ErrorCode == ErrorCodes.DebugPortUnusable ? ProjectFile : FirmwareFile);
            }
            return GdbSucceeded(gdb) && Ended(gdb != null ? "the gdb script's end" : "the firmware's end, the debugger or DebugTimeout");
        }

        private bool DebugWithServer()
        {
            if (string.IsNullOrEmpty(ServerPath))
            {
                return Fail(ErrorCodes.DebuggerFailed, $"Board '{Board}' has no emulator and its flash runner no gdb server; set DebugServerArguments, or FlashRunner to a runner with one (boards/runners.props).", ProjectFile);
            }
            UsedPort = Port;
            var placeholders = new Dictionary<string, string>
            {
                ["{elf}"] = Path.GetFullPath(Path.Combine(WorkingDirectory, FirmwareFile)),
                ["{port}"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            var arguments = ProcessRunner.SplitFlags(ServerArguments).Select(a => MicroTvmFlash.Expand(a, placeholders)).ToList();
            Log.LogCommandLine(MessageImportance.High, ServerPath + " " + ProcessRunner.JoinArguments(arguments));
            var lines = new ConcurrentQueue<string>();
            var stopwatch = Stopwatch.StartNew();
            GdbBatch? gdb = null;
            bool timedOut = false;
            int exitCode;
            using (var server = new Process { StartInfo = ProcessRunner.StartInfo(ServerPath!, arguments, WorkingDirectory) })
            {
                try
                {
                    ProcessRunner.StartWithMergedLines(server, lines.Enqueue);
                }
                catch (System.ComponentModel.Win32Exception e)
                {
                    return Fail(ErrorCodes.DebuggerFailed, $"The gdb server {ServerPath} could not be started: {e.Message}", ProjectFile);
                }
                LiveOutput.Line(this, $"{Board}: gdb server on 127.0.0.1:{Port}; connect gdb-multiarch (target extended-remote) or VS Code.");
                bool serverUp = false;
                while (!server.WaitForExit(50))
                {
                    while (lines.TryDequeue(out var line))
                    {
                        LiveOutput.Line(this, "  server | " + line);
                    }
                    if (!serverUp && !string.IsNullOrEmpty(GdbScript) && Listening(Port))
                    {
                        serverUp = true;
                        gdb = StartGdb(Port);
                    }
                    timedOut = TimeoutSeconds > 0 && stopwatch.Elapsed.TotalSeconds > TimeoutSeconds;
                    if (cancelled || timedOut || (gdb != null && gdb.Ended))
                    {
                        try
                        {
                            ProcessRunner.KillTree(server);
                        }
                        catch (InvalidOperationException)
                        {
                        }
                        server.WaitForExit();
                        break;
                    }
                }
                server.WaitForExit();
                while (lines.TryDequeue(out var line))
                {
                    LiveOutput.Line(this, "  server | " + line);
                }
                exitCode = server.ExitCode;
            }
            gdb?.Stop();
            if (cancelled)
            {
                return false;
            }
            bool stoppedByUs = timedOut || (gdb != null && gdb.Ended);
            if (!stoppedByUs && exitCode != 0)
            {
                return Fail(ErrorCodes.DebuggerFailed, $"The gdb server {Path.GetFileName(ServerPath)} ended with exit code {exitCode} (output above). Is the board connected and powered?", ProjectFile);
            }
            return GdbSucceeded(gdb) && Ended(timedOut ? "the time limit (DebugTimeout)" : gdb != null ? "the gdb script's end" : "the gdb server's end");
        }

        private GdbBatch? StartGdb(int port)
        {
            if (string.IsNullOrEmpty(GdbScript))
            {
                LiveOutput.Line(this, $"Debug with: gdb-multiarch \"{Path.GetFullPath(FirmwareFile)}\" -ex \"target extended-remote 127.0.0.1:{port}\" (or F5 in VS Code: .vscode/launch.json). Ctrl+C ends the session{(TimeoutSeconds > 0 ? $", or DebugTimeout ({TimeoutSeconds} s)" : "")}.");
                return null;
            }
            return GdbBatch.Start(GdbPath!, Path.GetFullPath(Path.Combine(WorkingDirectory, FirmwareFile)), port,
                Path.GetFullPath(Path.Combine(WorkingDirectory, GdbScript)), WorkingDirectory, line => LiveOutput.Line(this, "  gdb | " + line));
        }

        private bool GdbSucceeded(GdbBatch? gdb)
        {
            if (gdb == null || gdb.ExitCode == 0)
            {
                return true;
            }
            var tail = gdb.Lines.Skip(Math.Max(0, gdb.Lines.Count - FirmwareRun.ErrorConsoleLines));
            return Fail(ErrorCodes.DebuggerFailed, $"gdb ({GdbPath}) ended with exit code {gdb.ExitCode} running {GdbScript}. Its last lines:" + string.Concat(tail.Select(l => "\n  | " + l)), ProjectFile);
        }

        private bool Ended(string how)
        {
            Log.LogMessage(MessageImportance.High, "{0} -> 127.0.0.1:{1} ({2}: debug session ended by {3})", Path.GetFileNameWithoutExtension(ProjectFile), UsedPort, Board, how);
            return true;
        }

        private static bool Listening(int port)
        {
            try
            {
                using (var probe = new TcpClient())
                {
                    return probe.ConnectAsync("127.0.0.1", port).Wait(200) && probe.Connected;
                }
            }
            catch (Exception e) when (e is SocketException || e is AggregateException)
            {
                return false;
            }
        }

        private bool Fail(string code, string message, string file)
        {
            Log.LogError(null, code, ErrorCodes.HelpLink, file, 0, 0, 0, 0, "{0}", message);
            return false;
        }
    }

    /// <summary>gdb-multiarch in batch mode on the firmware's .elf, connected to a gdb server, running a command file.</summary>
    internal sealed class GdbBatch
    {
        private readonly Process process;
        private readonly List<string> lines = new List<string>();

        private GdbBatch(Process process) => this.process = process;

        public bool Ended => process.HasExited;

        public int ExitCode
        {
            get
            {
                process.WaitForExit();
                return process.ExitCode;
            }
        }

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (lines)
                {
                    return lines.ToList();
                }
            }
        }

        public static GdbBatch Start(string gdbPath, string elf, int port, string script, string workingDirectory, Action<string> onLine)
        {
            // -nx: no ~/.gdbinit or .gdbinit of a cloned project runs; the script is the project's own file.
            var arguments = new List<string>
            {
                "-q", "-batch", "-nx",
                "-ex", "set pagination off", "-ex", "set confirm off",
                "-ex", $"target extended-remote 127.0.0.1:{port}",
                "-x", script, elf,
            };
            var process = new Process { StartInfo = ProcessRunner.StartInfo(gdbPath, arguments, workingDirectory) };
            var batch = new GdbBatch(process);
            ProcessRunner.StartWithMergedLines(process, line =>
            {
                lock (batch.lines)
                {
                    batch.lines.Add(line);
                }
                onLine(line);
            });
            return batch;
        }

        /// <summary>Ends gdb if it still runs (the server went away first) and drains its output.</summary>
        public void Stop()
        {
            if (!process.HasExited && !process.WaitForExit(5000))
            {
                try
                {
                    ProcessRunner.KillTree(process);
                }
                catch (InvalidOperationException)
                {
                }
            }
            process.WaitForExit();
        }
    }
}
