using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Runs firmware in an emulator (QEMU), streams its console into the build log line by line, and turns
    /// the way it ended into the build result: exit code non-zero (MTVM4001), a fault report (MTVM4002),
    /// no end within the time limit (MTVM4003), an emulator that could not run it (MTVM4004), semihosting calls
    /// that asked the host for files or commands (MTVM4012, refused by <see cref="SemihostingGuard"/>).
    /// </summary>
    public sealed class MicroTvmRunFirmware : Task, ICancelableTask
    {
        private const string FaultMarker = "*** MicroTvm fault:";
        private const string AbortMarker = "*** MicroTvm abort:";
        private volatile bool cancelled;

        [Required]
        public string EmulatorPath { get; set; } = "";

        /// <summary>Emulator arguments; each entry may hold several space-separated arguments.</summary>
        public string[] Arguments { get; set; } = Array.Empty<string>();

        [Required]
        public string FirmwareFile { get; set; } = "";

        /// <summary>Wall-clock limit in seconds; 0 means none.</summary>
        public int TimeoutSeconds { get; set; } = 60;

        [Required]
        public string WorkingDirectory { get; set; } = "";

        /// <summary>The project, for errors about its emulator arguments.</summary>
        public string? ProjectFile { get; set; }

        [Output]
        public int ExitCode { get; set; }

        /// <summary>The firmware's console output, one item per line, for targets that parse results.</summary>
        [Output]
        public ITaskItem[] ConsoleLines { get; set; } = Array.Empty<ITaskItem>();

        public void Cancel() => cancelled = true;

        public override bool Execute()
        {
            if (!File.Exists(FirmwareFile))
            {
                Log.LogError(null, ErrorCodes.EmulatorFailed, ErrorCodes.HelpLink, FirmwareFile, 0, 0, 0, 0,
                    "There is no firmware to run at {0}; build the project first.", FirmwareFile);
                return false;
            }
            var arguments = Arguments.SelectMany(a => ProcessRunner.SplitFlags(a)).ToList();
            // Semihosting reaches the host only through the guard (README, Security); one that reaches it directly is refused.
            int semihosting = arguments.LastIndexOf("-semihosting-config");
            if (semihosting >= 0 && (semihosting + 1 == arguments.Count || !arguments[semihosting + 1].Split(',').Contains("target=gdb")))
            {
                Log.LogError(null, ErrorCodes.SemihostingUnconfined, ErrorCodes.HelpLink, string.IsNullOrEmpty(ProjectFile) ? FirmwareFile : ProjectFile, 0, 0, 0, 0,
                    "The emulator arguments give the firmware semihosting with host access ({0}); the SDK runs it with -semihosting-config enable=on,target=gdb so the firmware can end the run but not open host files or run host commands. Change MicroTvmEmulatorArguments/RunArguments.",
                    semihosting + 1 < arguments.Count ? arguments[semihosting + 1] : "-semihosting-config");
                return false;
            }
            using var guard = semihosting >= 0 ? new SemihostingGuard() : null;
            if (guard != null)
            {
                arguments.AddRange(guard.EmulatorArguments);
            }
            arguments.Add("-kernel");
            arguments.Add(Path.GetFullPath(FirmwareFile));
            string commandLine = EmulatorPath + " " + ProcessRunner.JoinArguments(arguments);
            Log.LogCommandLine(MessageImportance.Normal, commandLine);

            var startInfo = ProcessRunner.StartInfo(EmulatorPath, arguments, WorkingDirectory);
            var lines = new ConcurrentQueue<string>();
            var console = new List<string>();
            bool timedOut = false;
            string? fault = null, abort = null, emulatorError = null;
            var stopwatch = Stopwatch.StartNew();
            using (var process = new Process { StartInfo = startInfo })
            {
                process.OutputDataReceived += (_, e) => { if (e.Data != null) lines.Enqueue(e.Data); };
                process.ErrorDataReceived += (_, e) => { if (e.Data != null) lines.Enqueue(e.Data); };
                try
                {
                    process.Start();
                }
                catch (System.ComponentModel.Win32Exception e)
                {
                    Log.LogError(null, ErrorCodes.EmulatorFailed, ErrorCodes.HelpLink, FirmwareFile, 0, 0, 0, 0,
                        "Could not start {0}: {1}", EmulatorPath, e.Message);
                    return false;
                }
                process.StandardInput.Close();
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                if (guard != null && !guard.Attach(process, TimeSpan.FromSeconds(30), () => cancelled) && !process.HasExited && !cancelled)
                {
                    ProcessRunner.KillTree(process);
                    process.WaitForExit();
                    Log.LogError(null, ErrorCodes.EmulatorFailed, ErrorCodes.HelpLink, FirmwareFile, 0, 0, 0, 0,
                        "The emulator did not connect its gdb stub (semihosting guard) within 30 s.");
                    return false;
                }

                bool exited = false;
                while (!exited)
                {
                    exited = process.WaitForExit(20);
                    if (exited)
                    {
                        process.WaitForExit(); // Drain the readers.
                    }
                    while (lines.TryDequeue(out var raw))
                    {
                        string line = raw.TrimEnd('\r');
                        console.Add(line);
                        Log.LogMessage(MessageImportance.High, "  | {0}", line);
                        if (line.StartsWith(FaultMarker, StringComparison.Ordinal) || line.StartsWith("qemu: fatal: Lockup", StringComparison.Ordinal))
                        {
                            fault ??= line;
                        }
                        else if (line.StartsWith(AbortMarker, StringComparison.Ordinal))
                        {
                            abort ??= line.Substring(AbortMarker.Length).Trim();
                        }
                        else if (line.StartsWith("qemu-system-", StringComparison.Ordinal) || line.StartsWith("qemu: ", StringComparison.Ordinal))
                        {
                            emulatorError ??= line;
                        }
                    }
                    if (!exited && (cancelled || (TimeoutSeconds > 0 && stopwatch.Elapsed.TotalSeconds > TimeoutSeconds)))
                    {
                        timedOut = !cancelled;
                        try
                        {
                            ProcessRunner.KillTree(process);
                        }
                        catch (InvalidOperationException)
                        {
                        }
                        process.WaitForExit();
                        exited = true;
                    }
                }
                ExitCode = timedOut || cancelled ? -1 : process.ExitCode;
            }
            ConsoleLines = console.Select(l => (ITaskItem)new TaskItem(l.Length == 0 ? " " : l)).ToArray();

            if (cancelled)
            {
                return false;
            }
            if (timedOut)
            {
                Log.LogError(null, ErrorCodes.FirmwareTimeout, ErrorCodes.HelpLink, FirmwareFile, 0, 0, 0, 0,
                    "The firmware did not finish within {0} s (RunTimeout); it was stopped. Does main() return or call microtvm_exit()?", TimeoutSeconds);
                return false;
            }
            var refused = guard?.Refused ?? Array.Empty<string>();
            if (refused.Count > 0)
            {
                Log.LogError(null, ErrorCodes.SemihostingRefused, ErrorCodes.HelpLink, FirmwareFile, 0, 0, 0, 0,
                    "The firmware asked the host for {0} through semihosting; -t:Run refuses host file access and host commands (the call returned an error, nothing ran on the host). Use the console (UART) for output and microtvm_exit() to end the run.",
                    string.Join(", ", refused.Distinct()));
                return false;
            }
            if (fault != null)
            {
                Log.LogError(null, ErrorCodes.FirmwareFault, ErrorCodes.HelpLink, FirmwareFile, 0, 0, 0, 0,
                    "The firmware crashed: {0}", fault);
                return false;
            }
            if (emulatorError != null && ExitCode != 0)
            {
                Log.LogError(null, ErrorCodes.EmulatorFailed, ErrorCodes.HelpLink, FirmwareFile, 0, 0, 0, 0,
                    "The emulator could not run the firmware: {0}", emulatorError);
                return false;
            }
            if (ExitCode != 0)
            {
                Log.LogError(null, ErrorCodes.FirmwareExitCode, ErrorCodes.HelpLink, FirmwareFile, 0, 0, 0, 0,
                    "The firmware exited with code {0}{1}.", ExitCode, abort != null ? $" (abort: {abort})" : "");
                return false;
            }
            Log.LogMessage(MessageImportance.High, "{0} exited with code 0 after {1:0.00} s.", Path.GetFileName(FirmwareFile), stopwatch.Elapsed.TotalSeconds);
            return true;
        }
    }
}
