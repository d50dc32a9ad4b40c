using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;

namespace MicroTvm.Build.Tasks
{
    /// <summary>How a firmware run ended: an error (code and text, the console's last lines appended) or success.</summary>
    internal sealed class FirmwareRunResult
    {
        public FirmwareRunResult(int exitCode, IReadOnlyList<string> console, string? errorCode, string? errorText, TimeSpan elapsed, bool cancelled, bool ran = true)
        {
            Ran = ran;
            ExitCode = exitCode;
            Console = console;
            ErrorCode = errorCode;
            ErrorText = errorText;
            Elapsed = elapsed;
            Cancelled = cancelled;
        }

        /// <summary>The firmware's exit code; -1 when it was stopped.</summary>
        public int ExitCode { get; }

        public IReadOnlyList<string> Console { get; }

        /// <summary>MTVM code of the failure; null when the run succeeded (or was cancelled).</summary>
        public string? ErrorCode { get; }

        public string? ErrorText { get; }

        public TimeSpan Elapsed { get; }

        public bool Cancelled { get; }

        public bool Succeeded => ErrorCode == null && !Cancelled;

        /// <summary>False when the emulator never started (no firmware, no emulator, refused arguments).</summary>
        public bool Ran { get; }

        /// <summary>
        /// The last console lines, to append to the error where the console itself is not seen (terminal loggers show a
        /// build's errors, not its messages).
        /// </summary>
        public string ConsoleTail()
        {
            if (!Ran)
            {
                return "";
            }
            if (Console.Count == 0)
            {
                return " The firmware printed nothing.";
            }
            int shown = Math.Min(FirmwareRun.ErrorConsoleLines, Console.Count);
            var text = new StringBuilder(shown == Console.Count ? " Console:" : $" Last {shown} of {Console.Count} console lines:");
            foreach (string line in Console.Skip(Console.Count - shown))
            {
                text.Append('\n').Append("  | ").Append(line);
            }
            return text.ToString();
        }
    }

    /// <summary>-t:Debug: the emulator waits at reset for a debugger on <see cref="Port"/> (0: any free port).</summary>
    internal sealed class DebugSession
    {
        public DebugSession(int port, Action<int> onReady, Func<bool> over)
        {
            Port = port;
            OnReady = onReady;
            Over = over;
        }

        public int Port { get; }

        /// <summary>Called with the port once the emulator's stub is reachable there.</summary>
        public Action<int> OnReady { get; }

        /// <summary>True once the debugger is done (a script's gdb exited): the emulator is stopped, not an error.</summary>
        public Func<bool> Over { get; }
    }

    /// <summary>
    /// Runs firmware in an emulator (QEMU) and decides how the run ended: exit code non-zero (MTVM4001), a fault
    /// report (MTVM4002), no end within the time limit (MTVM4003), an emulator that could not run it (MTVM4004),
    /// semihosting calls that asked the host for files or commands (MTVM4012, refused by <see cref="SemihostingGuard"/>),
    /// semihosting with host access in the arguments (MTVM4013). No MSBuild here: the Run task and
    /// <c>microtvm emulate</c> (what <c>dotnet run</c> starts) both use it, so both runs are the same sandboxed run.
    /// </summary>
    internal static class FirmwareRun
    {
        /// <summary>What QEMU prints when its gdb stub is told to kill it ('k'/vKill); it then exits with 0.</summary>
        internal const string KilledByDebuggerMarker = "QEMU: Terminated via GDBstub";

        private const string FaultMarker = "*** MicroTvm fault:";
        private const string AbortMarker = "*** MicroTvm abort:";

        /// <summary>How many of the last console lines a failed run's error repeats (terminal loggers hide the console).</summary>
        public const int ErrorConsoleLines = 12;

        public static FirmwareRunResult Run(
            string emulatorPath,
            IEnumerable<string> emulatorArguments,
            string firmwareFile,
            int timeoutSeconds,
            string workingDirectory,
            Action<string> onCommandLine,
            Action<string> onConsoleLine,
            Func<bool> cancelled,
            string? addressToLinePath = null,
            DebugSession? debug = null)
        {
            var console = new List<string>();
            var stopwatch = Stopwatch.StartNew();
            FirmwareRunResult Fail(string code, string text, bool ran = true) =>
                new FirmwareRunResult(-1, console, code, text, stopwatch.Elapsed, false, ran);

            if (!File.Exists(firmwareFile))
            {
                return Fail(ErrorCodes.EmulatorFailed, $"There is no firmware to run at {firmwareFile}; build the project first.", ran: false);
            }
            var arguments = emulatorArguments.SelectMany(a => ProcessRunner.SplitFlags(a)).ToList();
            // Semihosting reaches the host only through the guard (README, Security); one that reaches it directly is refused.
            int semihosting = arguments.LastIndexOf("-semihosting-config");
            if (semihosting >= 0 && (semihosting + 1 == arguments.Count || !arguments[semihosting + 1].Split(',').Contains("target=gdb")))
            {
                return new FirmwareRunResult(-1, console, ErrorCodes.SemihostingUnconfined,
                    $"The emulator arguments give the firmware semihosting with host access ({(semihosting + 1 < arguments.Count ? arguments[semihosting + 1] : "-semihosting-config")}); the SDK runs it with -semihosting-config enable=on,target=gdb so the firmware can end the run but not open host files or run host commands. Change MicroTvmEmulatorArguments/RunArguments.",
                    stopwatch.Elapsed, false, ran: false);
            }
            if (debug != null && semihosting < 0)
            {
                return Fail(ErrorCodes.EmulatorFailed, "The emulator arguments have no -semihosting-config enable=on,target=gdb: -t:Debug reaches the emulator's gdb stub through the SDK's semihosting guard.", ran: false);
            }
            SemihostingGuard? guard;
            try
            {
                guard = semihosting >= 0 ? new SemihostingGuard(debug?.Port) : null;
            }
            catch (System.Net.Sockets.SocketException e)
            {
                return Fail(ErrorCodes.DebugPortUnusable, $"The debugger port 127.0.0.1:{debug!.Port} cannot be opened ({e.Message}); set DebugPort to a free port (0: any).", ran: false);
            }
            using var guardScope = guard;
            if (guard != null)
            {
                arguments.AddRange(guard.EmulatorArguments);
            }
            arguments.Add("-kernel");
            arguments.Add(Path.GetFullPath(firmwareFile));
            onCommandLine(emulatorPath + " " + ProcessRunner.JoinArguments(arguments));

            var startInfo = ProcessRunner.StartInfo(emulatorPath, arguments, workingDirectory);
            var lines = new ConcurrentQueue<string>();
            bool timedOut = false, stopped = false, debuggerEnded = false;
            string? fault = null, abort = null, emulatorError = null;
            int exitCode;
            using (var process = new Process { StartInfo = startInfo })
            {
                try
                {
                    ProcessRunner.StartWithMergedLines(process, lines.Enqueue);
                }
                catch (System.ComponentModel.Win32Exception e)
                {
                    return Fail(ErrorCodes.EmulatorFailed, $"Could not start {emulatorPath}: {e.Message}", ran: false);
                }
                if (guard != null && !guard.Attach(process, TimeSpan.FromSeconds(30), cancelled) && !process.HasExited && !cancelled())
                {
                    ProcessRunner.KillTree(process);
                    process.WaitForExit();
                    return Fail(ErrorCodes.EmulatorFailed, "The emulator did not connect its gdb stub (semihosting guard) within 30 s.");
                }
                if (debug != null && guard!.Attached)
                {
                    debug.OnReady(guard.DebuggerPort);
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
                        onConsoleLine(line);
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
                    if (!exited && debug != null && debug.Over())
                    {
                        // The debugger is done (gdb's script ended, detaching): the session ends here. A kill it sent just
                        // before ending is the emulator's own exit (a failure below), so that exit is waited for first.
                        if (process.WaitForExit(1000))
                        {
                            process.WaitForExit();
                            continue;
                        }
                        debuggerEnded = true;
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
                    if (!exited && (cancelled() || (timeoutSeconds > 0 && stopwatch.Elapsed.TotalSeconds > timeoutSeconds)))
                    {
                        stopped = cancelled();
                        timedOut = !stopped;
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
                exitCode = timedOut || stopped ? -1 : process.ExitCode;
            }

            if (stopped)
            {
                return new FirmwareRunResult(-1, console, null, null, stopwatch.Elapsed, cancelled: true);
            }
            var refused = guard?.Refused ?? Array.Empty<string>();
            // Under -t:Debug the end of the debugger's script or DebugTimeout ends the session; a debugger's kill is a killed
            // emulator (MTVM4050) as in any run: the firmware did not end, whatever QEMU's exit code says.
            debuggerEnded |= debug != null && timedOut;
            timedOut &= debug == null;
            string? killed = fault == null && !timedOut && !debuggerEnded ? KilledReason(guard, exitCode, console) : null;
            (string Code, string Text)? failure =
                timedOut ? (ErrorCodes.FirmwareTimeout, $"The firmware did not finish within {timeoutSeconds} s (RunTimeout); it was stopped. Does main() return or call microtvm_exit()?")
                : refused.Count > 0 ? (ErrorCodes.SemihostingRefused, $"The firmware asked the host for {string.Join(", ", refused.Distinct())} through semihosting; -t:Run refuses host file access and host commands (the call returned an error, nothing ran on the host). Use the console (UART) for output and microtvm_exit() to end the run.")
                : fault != null ? (ErrorCodes.FirmwareFault, "The firmware crashed: " + fault + FaultLocation.Describe(fault, addressToLinePath, firmwareFile))
                : killed != null ? (ErrorCodes.EmulatorKilled, killed + (emulatorError != null ? " The emulator said: " + emulatorError : ""))
                : emulatorError != null && exitCode != 0 ? (ErrorCodes.EmulatorFailed, "The emulator could not run the firmware: " + emulatorError)
                : debuggerEnded ? null
                : exitCode != 0 ? (ErrorCodes.FirmwareExitCode, $"The firmware exited with code {exitCode}{(abort != null ? $" (abort: {abort})" : "")}.")
                : ((string, string)?)null;
            if (debuggerEnded && failure == null)
            {
                exitCode = 0;
            }
            return failure == null
                ? new FirmwareRunResult(exitCode, console, null, null, stopwatch.Elapsed, false)
                : new FirmwareRunResult(exitCode, console, failure.Value.Code, failure.Value.Text, stopwatch.Elapsed, false);
        }

        /// <summary>
        /// Why the emulator ended without the firmware ending the run, or null if the firmware did end it. With the gdb
        /// stub attached (every board's run), QEMU reports the firmware's SYS_EXIT status there before it exits; an exit
        /// without that report is a killed emulator (a signal, or a debugger's kill), whatever its exit code says
        /// (a debugger's kill exits with 0; a signal's 128 + n could be read as the firmware's status).
        /// </summary>
        private static string? KilledReason(SemihostingGuard? guard, int exitCode, IReadOnlyList<string> console)
        {
            bool byDebugger = console.Any(l => l.Contains(KilledByDebuggerMarker));
            if (!byDebugger && (guard == null || !guard.Attached || guard.ReportedExitStatus() != null))
            {
                return null;
            }
            string how = byDebugger ? "a debugger told its gdb stub to kill it"
                : exitCode > 128 ? $"it was killed by signal {exitCode - 128}"
                : $"it exited with code {exitCode} without the firmware's exit";
            return $"The emulator stopped before the firmware ended the run: {how}. The run is not a success; the firmware's own exit code is unknown.";
        }
    }
}
