using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Programs a board with its flash runner (openocd, pyocd, st-flash, JLinkExe, ...). The runner's arguments are
    /// data from the board catalog: split into a list once, then {elf}, {hex}, {bin} and {commandfile} are replaced
    /// by full paths inside each argument, never re-split, and the runner starts with that list and no shell, so
    /// no character of a project path can become a command. A runner that needs a command file (J-Link) gets one
    /// written from <see cref="CommandFileLines"/>. The runner failing is MTVM4006.
    /// </summary>
    public sealed class MicroTvmFlash : Task, ICancelableTask
    {
        private readonly CancellationTokenSource cancellation = new CancellationTokenSource();

        /// <summary>Runner name as the project or board names it, for messages.</summary>
        [Required]
        public string Runner { get; set; } = "";

        [Required]
        public string RunnerPath { get; set; } = "";

        /// <summary>The runner's arguments as one string; double quotes group words into one argument.</summary>
        public string? Arguments { get; set; }

        [Required]
        public string ElfFile { get; set; } = "";

        public string? HexFile { get; set; }

        public string? BinFile { get; set; }

        /// <summary>Lines of a command file for runners that read their steps from one; {commandfile} names it.</summary>
        public string[] CommandFileLines { get; set; } = Array.Empty<string>();

        public string? CommandFile { get; set; }

        [Required]
        public string Board { get; set; } = "";

        /// <summary>The project file errors point at.</summary>
        [Required]
        public string ProjectFile { get; set; } = "";

        [Required]
        public string WorkingDirectory { get; set; } = "";

        /// <summary>Wall-clock limit in seconds; 0 means none.</summary>
        public int TimeoutSeconds { get; set; }

        public void Cancel() => cancellation.Cancel();

        public override bool Execute()
        {
            var placeholders = new Dictionary<string, string>
            {
                ["{elf}"] = FullPath(ElfFile),
            };
            if (!string.IsNullOrEmpty(HexFile))
            {
                placeholders["{hex}"] = FullPath(HexFile!);
            }
            if (!string.IsNullOrEmpty(BinFile))
            {
                placeholders["{bin}"] = FullPath(BinFile!);
            }
            foreach (var pair in placeholders)
            {
                // One argument (or one command-file line) cannot carry a line break, whatever the runner.
                if (pair.Value.IndexOfAny(new[] { '\n', '\r', '\0' }) >= 0)
                {
                    return Fail(ErrorCodes.FlashPathUnusable, $"The firmware path '{pair.Value}' contains a line break, which {Runner} cannot be given as one argument. Move the project to a folder without one.");
                }
            }

            if (CommandFileLines.Length > 0)
            {
                if (string.IsNullOrEmpty(CommandFile))
                {
                    return Fail(ErrorCodes.FlashPathUnusable, $"The {Runner} runner of board '{Board}' has command-file lines but no command file path.");
                }
                var lines = new StringBuilder();
                foreach (var line in CommandFileLines)
                {
                    if (line.Contains("\"{") && placeholders.Values.Any(v => v.IndexOf('"') >= 0))
                    {
                        return Fail(ErrorCodes.FlashPathUnusable, $"A firmware path contains '\"', which cannot be quoted in {Runner}'s command file. Move the project to a folder without one.");
                    }
                    lines.Append(Expand(line, placeholders)).Append('\n');
                }
                string commandFile = FullPath(CommandFile!);
                Directory.CreateDirectory(Path.GetDirectoryName(commandFile)!);
                File.WriteAllText(commandFile, lines.ToString());
                placeholders["{commandfile}"] = commandFile;
            }

            var arguments = ProcessRunner.SplitFlags(Arguments).Select(a => Expand(a, placeholders)).ToList();
            Log.LogCommandLine(MessageImportance.High, RunnerPath + " " + ProcessRunner.JoinArguments(arguments));
            ProcessResult result;
            try
            {
                result = ProcessRunner.Run(RunnerPath, arguments, WorkingDirectory, cancellation.Token,
                    line => LiveOutput.Line(this, "  | " + line),
                    TimeoutSeconds > 0 ? TimeSpan.FromSeconds(TimeoutSeconds) : (TimeSpan?)null);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                return Fail(ErrorCodes.FlashFailed, $"{Runner} ({RunnerPath}) could not be started: {e.Message}");
            }
            if (result.Cancelled)
            {
                return false;
            }
            if (result.TimedOut)
            {
                return Fail(ErrorCodes.FlashFailed, $"{Runner} did not finish within {TimeoutSeconds} s (FlashTimeout) while programming board '{Board}' and was stopped.");
            }
            if (result.ExitCode != 0)
            {
                return Fail(ErrorCodes.FlashFailed, $"{Runner} failed with exit code {result.ExitCode} while programming board '{Board}' (output above). Is the board connected and powered?");
            }
            Log.LogMessage(MessageImportance.High, "{0} programmed board '{1}' with {2}.", Runner, Board, placeholders["{elf}"]);
            return true;
        }

        /// <summary>Replaces each placeholder in one pass, so text a path brings in is never expanded again.</summary>
        internal static string Expand(string argument, IReadOnlyDictionary<string, string> placeholders)
        {
            var result = new StringBuilder();
            int i = 0;
            while (i < argument.Length)
            {
                string? match = argument[i] == '{'
                    ? placeholders.Keys.FirstOrDefault(key => string.CompareOrdinal(argument, i, key, 0, key.Length) == 0)
                    : null;
                if (match != null)
                {
                    result.Append(placeholders[match]);
                    i += match.Length;
                }
                else
                {
                    result.Append(argument[i]);
                    i++;
                }
            }
            return result.ToString();
        }

        private string FullPath(string path) => Path.GetFullPath(Path.Combine(WorkingDirectory, path));

        private bool Fail(string code, string message)
        {
            Log.LogError(null, code, ErrorCodes.HelpLink, ProjectFile, 0, 0, 0, 0, "{0}", message);
            return false;
        }
    }
}
