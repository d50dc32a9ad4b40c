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

        /// <summary>The auto weight-layout decision file (<see cref="WeightLayoutChoice"/>) and the key it is decided for.</summary>
        public string? WeightLayoutFile { get; set; }

        public string WeightLayoutKey { get; set; } = "";

        /// <summary>False in the build's second pass: the decision made in the first pass is not revisited.</summary>
        public bool WeightLayoutMayChange { get; set; } = true;

        /// <summary>Set when the auto weight-layout decision changed: the flash overflowed with models of
        /// MicroTvmWeightLayout=auto compiled with the speed layout (the decision file now says size), or a link with the size
        /// layout left room for the speed layout (the decision is gone). No error was logged and no firmware written; the
        /// build compiles those models again and relinks.</summary>
        [Output]
        public bool WeightLayoutChanged { get; set; }

        /// <summary>Room kept below the flash's end when the speed layout's size is estimated (code alignment may differ).</summary>
        private const long SpeedEstimateMargin = 256;

        public void Cancel() => cancellation.Cancel();

        /// <summary>The board as messages name it.</summary>
        private string BoardName => string.IsNullOrEmpty(Board) ? "the board" : Board!;

        private static readonly Regex NotFit = new Regex(@"will not fit in region `(?<region>[^']+)'", RegexOptions.Compiled);
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
                if (WeightLayoutMayChange && FlashOverflow(result.Output) is string flash && LayoutModels(WeightLayoutChoice.Auto, WeightLayoutChoice.Speed).Any()
                    && !string.IsNullOrEmpty(WeightLayoutFile) && MeasureOverflow(arguments, flash) is { } measured)
                {
                    var (used, length) = measured;
                    WeightLayoutChoice.WriteCompact(WeightLayoutFile!, WeightLayoutKey, used, length);
                    Log.LogMessage(MessageImportance.High,
                        "{0}: with widened weights (speed) the firmware takes {1:N0} B of flash, more than {2}'s {3:N0} B: compiling the models of MicroTvmWeightLayout=auto with compact weights (size) and linking again",
                        Path.GetFileName(OutputFile), used, BoardName, length);
                    File.Delete(OutputFile);
                    WeightLayoutChanged = true;
                    return true;
                }
                ReportLinkerErrors(result.Output, arguments);
                // No half-written firmware: a failed link leaves no .elf that a later step could pick up.
                File.Delete(OutputFile);
                return false;
            }
            if (SpeedFitsAgain())
            {
                File.Delete(OutputFile);
                WeightLayoutChanged = true;
                return true;
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

        /// <summary>
        /// With the auto models on the size layout by decision: the first such link records its flash beside the speed
        /// link's; a later one (the application changed) whose flash plus the widened weights' extra bytes fits the region
        /// drops the decision, so that the build compiles them with the speed layout again. A decision without the speed
        /// link's flash (written by an older SDK) is kept as it is.
        /// </summary>
        private bool SpeedFitsAgain()
        {
            if (string.IsNullOrEmpty(WeightLayoutFile) || !LayoutModels(WeightLayoutChoice.Auto, WeightLayoutChoice.Size).Any()
                || WeightLayoutChoice.ReadCompact(WeightLayoutFile, WeightLayoutKey) is not { SpeedFlash: long speedFlashThen } decision)
            {
                return false;
            }
            var flash = RegionUsage(OutputFile, MapFile).FirstOrDefault(r => string.Equals(r.Name, "FLASH", StringComparison.OrdinalIgnoreCase));
            if (flash == null)
            {
                return false;
            }
            if (decision.SizeFlash is not long sizeFlash)
            {
                WeightLayoutChoice.RecordSizeFlash(WeightLayoutFile!, (long)flash.Used);
                return false;
            }
            long speedFlash = (long)flash.Used + speedFlashThen - sizeFlash;
            if (!WeightLayoutMayChange || speedFlash > (long)flash.Length - SpeedEstimateMargin)
            {
                return false;
            }
            File.Delete(WeightLayoutFile!);
            Log.LogMessage(MessageImportance.High,
                "{0}: the firmware now leaves room for widened weights (speed, about {1:N0} B of {2}'s {3:N0} B of flash): compiling the models of MicroTvmWeightLayout=auto with widened weights and linking again",
                Path.GetFileName(OutputFile), speedFlash, BoardName, (long)flash.Length);
            return true;
        }

        private static List<MemoryRegion> RegionUsage(string elf, string map) => ElfImage.RegionUsage(ElfImage.ReadSections(elf), map);

        /// <summary>The flash region's name when the link failed because the image does not fit it.</summary>
        private static string? FlashOverflow(string output) =>
            Overflow.Matches(output).Cast<Match>().Concat(NotFit.Matches(output).Cast<Match>()).Select(m => m.Groups["region"].Value)
                .FirstOrDefault(r => string.Equals(r, "FLASH", StringComparison.OrdinalIgnoreCase));

        /// <summary>Models that chose a weight layout (their .json names one) with the given requested and compiled layouts.</summary>
        private IEnumerable<ITaskItem> LayoutModels(string? requested, string compiled) =>
            Models.Where(m => (requested == null || m.GetMetadata("ModelWeightLayout") == requested) && m.GetMetadata("EffectiveWeightLayout") == compiled
                && ModelSize.Read(new[] { m }).Any(s => !string.IsNullOrEmpty(s.WeightLayout)));

        /// <summary>The bytes the image would take in <paramref name="region"/> and the region's length: the same link again,
        /// told to write its output despite the overflow (--noinhibit-exec), into files that are deleted at once.</summary>
        private (long Used, long Length)? MeasureOverflow(List<string> arguments, string region)
        {
            string elf = OutputFile + ".overflow.elf", map = OutputFile + ".overflow.map", response = ResponseFile + ".overflow";
            var measuring = arguments.Take(arguments.Count - 3).Concat(new[] { "-Wl,--noinhibit-exec", "-Wl,-Map=" + Path.GetFullPath(map), "-o", Path.GetFullPath(elf) });
            try
            {
                File.WriteAllText(response, string.Join("\n", measuring.Select(QuoteForResponseFile)) + "\n");
                var result = ProcessRunner.Run(LinkerPath, new[] { "@" + Path.GetFullPath(response) }, ProjectDirectory, cancellation.Token);
                if (result.Cancelled || !File.Exists(elf) || !File.Exists(map))
                {
                    return null;
                }
                var flash = RegionUsage(elf, map).FirstOrDefault(r => r.Name == region);
                return flash == null ? ((long, long)?)null : ((long)flash.Used, (long)flash.Length);
            }
            catch (Exception e) when (DamagedFirmware.IsReadError(e))
            {
                return null;
            }
            finally
            {
                File.Delete(elf);
                File.Delete(map);
                File.Delete(response);
            }
        }

        private void ReportLinkerErrors(string output, List<string> arguments)
        {
            // Models whose kernels have the choice of weight layout: say which layout did not fit and what would.
            if (FlashOverflow(output) is string flash && (LayoutModels(null, WeightLayoutChoice.Speed).ToList() is var widened)
                && (widened.Count > 0 || LayoutModels(null, WeightLayoutChoice.Size).Any()) && MeasureOverflow(arguments, flash) is { } measured)
            {
                var (used, length) = measured;
                if (widened.Count > 0)
                {
                    Log.LogError(null, ErrorCodes.FlashOverflowWidenedWeights, ErrorCodes.HelpLink, OutputFile, 0, 0, 0, 0,
                        "The firmware does not fit {0}'s flash with widened weights: {1:N0} B > {2:N0} B. {3} MicroTvmWeightLayout=speed; auto (the default) or size stores the weights compactly (int8).",
                        BoardName, used, length, string.Join(", ", widened.Select(m => "model " + m.GetMetadata("ModelName"))) + (widened.Count == 1 ? " has" : " have"));
                }
                else
                {
                    Log.LogError(null, ErrorCodes.FlashOverflowCompactWeights, ErrorCodes.HelpLink, OutputFile, 0, 0, 0, 0,
                        "The firmware does not fit {0}'s flash even with compact weights (MicroTvmWeightLayout size): {1:N0} B > {2:N0} B.{3} Make code or data smaller (e.g. OptimizationLevel s) or choose a board with more flash.",
                        BoardName, used, length, " Models in this firmware: " + string.Join("; ", ModelSize.Read(Models).Select(m => m.Describe())) + ".");
                }
                return;
            }
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
