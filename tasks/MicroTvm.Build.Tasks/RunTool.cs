using System;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Runs a tool (the packed microtvm command-line tool) where MSBuild's Exec would go through a shell: the
    /// arguments are split once (whitespace separates, double quotes group) and passed as a list, so a project path
    /// with backticks, $(...) or ';' stays one argument and runs nothing. Output lines in the canonical
    /// "file: error CODE: text" form become errors and warnings; a failure without one is MTVM0106.
    /// </summary>
    public sealed class MicroTvmRunTool : Task, ICancelableTask
    {
        /// <summary>A line MSBuild's canonical-error parsing may read as an error or warning ("file: error CODE: text").</summary>
        private static readonly Regex Diagnostic = new Regex(@"\b(error|warning)\s+[A-Za-z]*[0-9]*\s*:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        private readonly CancellationTokenSource cancellation = new CancellationTokenSource();

        [Required]
        public string ToolPath { get; set; } = "";

        public string? Arguments { get; set; }

        [Required]
        public string WorkingDirectory { get; set; } = "";

        /// <summary>The project, for an error without a line of its own.</summary>
        [Required]
        public string ProjectFile { get; set; } = "";

        /// <summary>Importance of the tool's other output lines: low, normal or high.</summary>
        public string StandardOutputImportance { get; set; } = "normal";

        /// <summary>The other output lines are shown as they come, by the terminal logger too (<see cref="LiveOutput"/>).</summary>
        public bool Live { get; set; }

        public void Cancel() => cancellation.Cancel();

        public override bool Execute()
        {
            var importance = (MessageImportance)Enum.Parse(typeof(MessageImportance), StandardOutputImportance, ignoreCase: true);
            var arguments = ProcessRunner.SplitFlags(Arguments);
            Log.LogCommandLine(MessageImportance.Normal, ToolPath + " " + ProcessRunner.JoinArguments(arguments));
            ProcessResult result;
            try
            {
                result = ProcessRunner.Run(ToolPath, arguments, WorkingDirectory, cancellation.Token,
                    line =>
                    {
                        if (Live && !Diagnostic.IsMatch(line))
                        {
                            LiveOutput.Line(this, line);
                        }
                        else
                        {
                            Log.LogMessageFromText(line, importance);
                        }
                    });
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                Log.LogError(null, ErrorCodes.ModelCompilerUnavailable, ErrorCodes.HelpLink, ProjectFile, 0, 0, 0, 0,
                    "{0} could not be started: {1}", ToolPath, e.Message);
                return false;
            }
            if (result.Cancelled)
            {
                return false;
            }
            if (result.ExitCode != 0 && !Log.HasLoggedErrors)
            {
                Log.LogError(null, ErrorCodes.ModelCompilerUnavailable, ErrorCodes.HelpLink, ProjectFile, 0, 0, 0, 0,
                    "{0} {1} exited with code {2} without an error line.", ToolPath, ProcessRunner.JoinArguments(arguments), result.ExitCode);
            }
            return !Log.HasLoggedErrors;
        }
    }
}
