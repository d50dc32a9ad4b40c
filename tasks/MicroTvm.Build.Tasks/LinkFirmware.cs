using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Links objects into the firmware .elf (with a .map), then writes .bin and .hex with objcopy.
    /// The linker's output becomes coded errors: a region overflow is MTVM3201, the rest MTVM3202.
    /// </summary>
    public sealed class MicroTvmLink : Task, ICancelableTask
    {
        private readonly CancellationTokenSource cancellation = new CancellationTokenSource();

        [Required]
        public string LinkerPath { get; set; } = "";

        [Required]
        public string ObjcopyPath { get; set; } = "";

        [Required]
        public ITaskItem[] ObjectFiles { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>Flags before the objects; each entry may hold several space-separated flags.</summary>
        public string[] Options { get; set; } = Array.Empty<string>();

        /// <summary>Libraries and flags after the objects (e.g. -lm).</summary>
        public string[] Libraries { get; set; } = Array.Empty<string>();

        [Required]
        public string OutputFile { get; set; } = "";

        [Required]
        public string MapFile { get; set; } = "";

        public string? BinFile { get; set; }

        public string? HexFile { get; set; }

        /// <summary>Response file that carries the link command line (keeps long lines working on Windows).</summary>
        [Required]
        public string ResponseFile { get; set; } = "";

        [Required]
        public string ProjectDirectory { get; set; } = "";

        /// <summary>Compiled models (items with MetadataFile, ModelName, SourceItem): a region overflow error says what each contributes.</summary>
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>Written after a successful link (<see cref="OutputRecord"/>: the .elf, .map, .bin and .hex as written),
        /// so a later build relinks when one of them is damaged; removed before each attempt.</summary>
        public string? RecordFile { get; set; }

        /// <summary>Named in region overflow errors so a person knows which memory map overflowed.</summary>
        public string? Board { get; set; }

        public void Cancel() => cancellation.Cancel();

        private static readonly Regex Overflow = new Regex(@"region `(?<region>[^']+)' overflowed by (?<bytes>\d+) bytes", RegexOptions.Compiled);
        private static readonly Regex Located = new Regex(@"^(?<file>[^:]+(?::\\[^:]+)?):(?<line>\d+):(?:\([^)]*\): )?\s*(?<message>.+)$", RegexOptions.Compiled);

        public override bool Execute()
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(OutputFile))!);
            if (!string.IsNullOrEmpty(RecordFile))
            {
                File.Delete(RecordFile!);
            }
            var arguments = new List<string>();
            foreach (var option in Options)
            {
                arguments.AddRange(ProcessRunner.SplitFlags(option));
            }
            arguments.AddRange(ObjectFiles.Select(o => Path.GetFullPath(Path.Combine(ProjectDirectory, o.ItemSpec))));
            foreach (var library in Libraries)
            {
                arguments.AddRange(ProcessRunner.SplitFlags(library));
            }
            arguments.Add("-Wl,-Map=" + Path.GetFullPath(MapFile));
            arguments.Add("-o");
            arguments.Add(Path.GetFullPath(OutputFile));

            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(ResponseFile))!);
            File.WriteAllText(ResponseFile, string.Join("\n", arguments.Select(QuoteForResponseFile)) + "\n");
            Log.LogMessage(MessageImportance.Normal, "MicroTvmLink: linking {0}", Path.GetFileName(OutputFile));
            Log.LogCommandLine(MessageImportance.Low, LinkerPath + " " + ProcessRunner.JoinArguments(arguments));

            var result = ProcessRunner.Run(LinkerPath, new[] { "@" + Path.GetFullPath(ResponseFile) }, ProjectDirectory, cancellation.Token);
            if (result.Cancelled)
            {
                return false;
            }
            if (result.ExitCode != 0)
            {
                ReportLinkerErrors(result.Output);
                // No half-written firmware: a failed link leaves no .elf that a later step could pick up.
                File.Delete(OutputFile);
                return false;
            }
            foreach (var line in SplitLines(result.Output))
            {
                Log.LogWarning(null, ErrorCodes.LinkerError, ErrorCodes.HelpLink, OutputFile, 0, 0, 0, 0, "{0}", line);
            }

            if (!Objcopy("binary", BinFile) || !Objcopy("ihex", HexFile))
            {
                return false;
            }
            if (!string.IsNullOrEmpty(RecordFile))
            {
                OutputRecord.Write(RecordFile!, new[] { OutputFile, MapFile, BinFile, HexFile }.Where(f => !string.IsNullOrEmpty(f))!);
            }
            return true;
        }

        private bool Objcopy(string format, string? output)
        {
            if (string.IsNullOrEmpty(output))
            {
                return true;
            }
            var arguments = new[] { "-O", format, Path.GetFullPath(OutputFile), Path.GetFullPath(output!) };
            Log.LogCommandLine(MessageImportance.Low, ObjcopyPath + " " + ProcessRunner.JoinArguments(arguments));
            var result = ProcessRunner.Run(ObjcopyPath, arguments, ProjectDirectory, cancellation.Token);
            if (result.ExitCode != 0)
            {
                Log.LogError(null, ErrorCodes.ObjcopyFailed, ErrorCodes.HelpLink, OutputFile, 0, 0, 0, 0,
                    "objcopy could not write {0}: {1}", output, result.Output.Trim());
                File.Delete(output!);
                return false;
            }
            return true;
        }

        private void ReportLinkerErrors(string output)
        {
            var overflows = Overflow.Matches(output).Cast<Match>().ToList();
            if (overflows.Count > 0)
            {
                var models = ModelSize.Read(Models);
                string modelShare = models.Count == 0 ? "" : " Models in this firmware: " + string.Join("; ", models.Select(m => m.Describe())) + ".";
                foreach (var overflow in overflows)
                {
                    Log.LogError(null, ErrorCodes.RegionOverflow, ErrorCodes.HelpLink, OutputFile, 0, 0, 0, 0,
                        "The firmware does not fit the board{0}: memory region {1} overflowed by {2} bytes.{3} Make code or data smaller (e.g. OptimizationLevel s) or choose a board with more memory.",
                        string.IsNullOrEmpty(Board) ? "" : " " + Board, overflow.Groups["region"].Value, overflow.Groups["bytes"].Value, modelShare);
                }
                return;
            }
            bool reported = false;
            foreach (var line in SplitLines(output))
            {
                if (line.IndexOf("ld returned", StringComparison.Ordinal) >= 0 || line.EndsWith(":", StringComparison.Ordinal))
                {
                    continue; // "collect2: error: ld returned 1 exit status" and "x.o: in function `main':" context lines.
                }
                var match = Located.Match(line);
                if (match.Success && File.Exists(match.Groups["file"].Value))
                {
                    Log.LogError(null, ErrorCodes.LinkerError, ErrorCodes.HelpLink, Path.GetFullPath(match.Groups["file"].Value),
                        int.Parse(match.Groups["line"].Value), 0, 0, 0, "{0}", match.Groups["message"].Value.Trim());
                }
                else
                {
                    Log.LogError(null, ErrorCodes.LinkerError, ErrorCodes.HelpLink, OutputFile, 0, 0, 0, 0, "{0}", StripToolPrefix(line));
                }
                reported = true;
            }
            if (!reported)
            {
                Log.LogError(null, ErrorCodes.LinkerError, ErrorCodes.HelpLink, OutputFile, 0, 0, 0, 0, "The link failed: {0}", output.Trim());
            }
        }

        private static string StripToolPrefix(string line)
        {
            // "/usr/lib/gcc/arm-none-eabi/12.2.1/../bin/ld: message" -> "message"
            int at = line.IndexOf("ld: ", StringComparison.Ordinal);
            return at >= 0 && line.Substring(0, at).IndexOf(' ') < 0 ? line.Substring(at + 4) : line;
        }

        private static IEnumerable<string> SplitLines(string text) =>
            text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0);

        private static string QuoteForResponseFile(string argument)
        {
            var builder = new StringBuilder("\"");
            foreach (char c in argument)
            {
                if (c == '"' || c == '\\')
                {
                    builder.Append('\\');
                }
                builder.Append(c);
            }
            return builder.Append('"').ToString();
        }
    }
}
