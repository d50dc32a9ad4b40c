using System;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Finds an external tool: an explicit property (a directory or the tool itself), then an environment
    /// variable, then PATH. A missing tool is an MTVM3001 error that says how to install it.
    /// </summary>
    public sealed class MicroTvmResolveTool : Task
    {
        /// <summary>Executable name without extension, e.g. arm-none-eabi-gcc.</summary>
        [Required]
        public string ToolName { get; set; } = "";

        /// <summary>Value of the overriding property (e.g. $(ArmGccPath)); directory or full path.</summary>
        public string? ExplicitPath { get; set; }

        /// <summary>Name of the property users set, for the error message.</summary>
        public string? PropertyName { get; set; }

        /// <summary>Environment variable consulted when the property is empty, e.g. ARM_GCC_PATH.</summary>
        public string? EnvironmentVariable { get; set; }

        /// <summary>What a person should run to install the tool.</summary>
        public string? InstallHint { get; set; }

        /// <summary>The file a missing tool's error points at (the project); the calling targets file if empty.</summary>
        public string? ProjectFile { get; set; }

        [Output]
        public string ToolPath { get; set; } = "";

        [Output]
        public string ToolDirectory { get; set; } = "";

        public override bool Execute()
        {
            string executable = ToolName + (IsWindows ? ".exe" : "");
            string? found;
            if (!string.IsNullOrEmpty(ExplicitPath))
            {
                found = Probe(ExplicitPath!, executable);
                if (found == null)
                {
                    return Fail($"{ToolName} was not found at {PropertyName}='{ExplicitPath}' (looked for '{executable}' there and in its bin folder).");
                }
            }
            else
            {
                string? fromEnvironment = string.IsNullOrEmpty(EnvironmentVariable) ? null : Environment.GetEnvironmentVariable(EnvironmentVariable!);
                if (!string.IsNullOrEmpty(fromEnvironment))
                {
                    found = Probe(fromEnvironment!, executable);
                    if (found == null)
                    {
                        return Fail($"{ToolName} was not found at {EnvironmentVariable}='{fromEnvironment}' (environment variable).");
                    }
                }
                else
                {
                    found = SearchPath(executable);
                    if (found == null)
                    {
                        string overrides = PropertyName == null ? "put it on PATH"
                            : string.IsNullOrEmpty(EnvironmentVariable) ? $"set the {PropertyName} property to its folder or put it on PATH"
                            : $"set the {PropertyName} property or the {EnvironmentVariable} environment variable to its folder";
                        return Fail($"{ToolName} was not found on PATH; {overrides}.");
                    }
                }
            }
            ToolPath = Path.GetFullPath(found);
            ToolDirectory = Path.GetDirectoryName(ToolPath) + Path.DirectorySeparatorChar;
            Log.LogMessage(MessageImportance.Low, "{0}: {1}", ToolName, ToolPath);
            return true;
        }

        private bool Fail(string what)
        {
            Log.LogError(null, ErrorCodes.ToolNotFound, ErrorCodes.HelpLink, string.IsNullOrEmpty(ProjectFile) ? BuildEngine.ProjectFileOfTaskNode : ProjectFile, 0, 0, 0, 0,
                "{0} Install it: {1}", what, InstallHint ?? "see docs/errors.md");
            return false;
        }

        private static bool IsWindows => Path.DirectorySeparatorChar == '\\';

        private static string? Probe(string location, string executable)
        {
            if (File.Exists(location) && !Directory.Exists(location))
            {
                return location;
            }
            foreach (var candidate in new[] { Path.Combine(location, executable), Path.Combine(location, "bin", executable) })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
            return null;
        }

        private static string? SearchPath(string executable)
        {
            string path = Environment.GetEnvironmentVariable("PATH") ?? "";
            foreach (var directory in path.Split(Path.PathSeparator))
            {
                if (directory.Length == 0)
                {
                    continue;
                }
                string candidate = Path.Combine(directory, executable);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
            return null;
        }
    }
}
