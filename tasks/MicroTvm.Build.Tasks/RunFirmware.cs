using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// -t:Run: runs firmware in an emulator through <see cref="FirmwareRun"/>, streams its console into the build log
    /// line by line, writes it to <see cref="ConsoleLogFile"/>, and turns the way it ended into the build result.
    /// </summary>
    public sealed class MicroTvmRunFirmware : Task, ICancelableTask
    {
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

        /// <summary>The project, for errors about its emulator arguments and for the run's "-> output" line.</summary>
        public string? ProjectFile { get; set; }

        /// <summary>Where the console is written as a whole (named by the run's "-> output" line); none if empty.</summary>
        public string? ConsoleLogFile { get; set; }

        public string? Board { get; set; }

        /// <summary>arm-none-eabi-addr2line: a fault report's pc and lr are named as function, file and line.</summary>
        public string? AddressToLinePath { get; set; }

        [Output]
        public int ExitCode { get; set; }

        /// <summary>The firmware's console output, one item per line, for targets that parse results.</summary>
        [Output]
        public ITaskItem[] ConsoleLines { get; set; } = Array.Empty<ITaskItem>();

        public void Cancel() => cancelled = true;

        public override bool Execute()
        {
            var result = FirmwareRun.Run(EmulatorPath, Arguments, FirmwareFile, TimeoutSeconds, WorkingDirectory,
                commandLine => Log.LogCommandLine(MessageImportance.Normal, commandLine),
                line => LiveOutput.Line(this, "  | " + line),
                () => cancelled, AddressToLinePath);
            ExitCode = result.ExitCode;
            ConsoleLines = result.Console.Select(l => (ITaskItem)new TaskItem(l.Length == 0 ? " " : l)).ToArray();
            if (result.Cancelled)
            {
                return false;
            }
            WriteConsoleLog(result);
            if (!result.Succeeded)
            {
                // Errors about the project's emulator arguments name the project; the others the firmware.
                string file = result.ErrorCode == ErrorCodes.SemihostingUnconfined && !string.IsNullOrEmpty(ProjectFile) ? ProjectFile! : FirmwareFile;
                Log.LogError(null, result.ErrorCode, ErrorCodes.HelpLink, file, 0, 0, 0, 0, "{0}", result.ErrorText + result.ConsoleTail());
                return false;
            }
            string summary = string.Format(CultureInfo.InvariantCulture, "exited with code 0 after {0:0.00} s", result.Elapsed.TotalSeconds);
            Log.LogMessage(MessageImportance.High, "{0} {1}.", Path.GetFileName(FirmwareFile), summary);
            if (!string.IsNullOrEmpty(ConsoleLogFile) && !string.IsNullOrEmpty(ProjectFile))
            {
                // The terminal logger (dotnet build's default in a terminal) shows, at normal verbosity, only the text after
                // " -> " of a "<project> -> <output>" message: the run's one-line result goes there.
                Log.LogMessage(MessageImportance.High, "{0} -> {1} ({2}{3}, {4} console line{5}; 'dotnet run' shows the console live)",
                    Path.GetFileNameWithoutExtension(ProjectFile), Path.GetFullPath(ConsoleLogFile), string.IsNullOrEmpty(Board) ? "" : Board + ": ",
                    summary, result.Console.Count, result.Console.Count == 1 ? "" : "s");
            }
            return true;
        }

        /// <summary>The whole console beside the firmware; a run that cannot write it still reports its result.</summary>
        private void WriteConsoleLog(FirmwareRunResult result)
        {
            if (string.IsNullOrEmpty(ConsoleLogFile))
            {
                return;
            }
            try
            {
                File.WriteAllLines(ConsoleLogFile, result.Console);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                Log.LogMessage(MessageImportance.Normal, "Could not write the console to {0}: {1}", ConsoleLogFile, e.Message);
                ConsoleLogFile = null;
            }
        }
    }
}
