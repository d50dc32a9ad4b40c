using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// -t:Boards: the board catalog as a table, read from the data itself: each <c>&lt;board&gt;/board.props</c> (CPU,
    /// description, emulator or default flash runner) and its linker script's MEMORY (FLASH and RAM lengths). Also as
    /// <see cref="Boards"/> items for targets that want them.
    /// </summary>
    public sealed class MicroTvmListBoards : Task
    {
        private static readonly Regex Region = new Regex(@"^\s*(?<name>\w+)\s*\([^)]*\)\s*:\s*ORIGIN\s*=\s*[^,]+,\s*LENGTH\s*=\s*(?<length>[0-9A-Fa-fxX]+[KM]?)", RegexOptions.Multiline);

        [Required]
        public string BoardsDirectory { get; set; } = "";

        public string? ProjectFile { get; set; }

        /// <summary>One item per board (its name), metadata Cpu, Description, FlashBytes, RamBytes, RunsOn.</summary>
        [Output]
        public ITaskItem[] Boards { get; set; } = Array.Empty<ITaskItem>();

        public override bool Execute()
        {
            var rows = new List<string[]> { new[] { "board", "CPU", "flash", "RAM", "runs on", "description" } };
            var items = new List<ITaskItem>();
            foreach (string props in Directory.EnumerateFiles(BoardsDirectory, "board.props", SearchOption.AllDirectories).OrderBy(p => p, StringComparer.Ordinal))
            {
                string folder = Path.GetDirectoryName(props)!;
                string name = Path.GetFileName(folder);
                var properties = Properties(props);
                string Get(string key) => properties.TryGetValue(key, out var value) ? value : "";
                string linkerScript = Get("MicroTvmLinkerScript").Replace("$(MSBuildThisFileDirectory)", folder + Path.DirectorySeparatorChar);
                var regions = File.Exists(linkerScript) ? Regions(File.ReadAllText(linkerScript)) : new Dictionary<string, long>();
                string emulator = Get("MicroTvmEmulator");
                string runner = Get("MicroTvmBoardFlashRunner");
                string runsOn = emulator.Length > 0 ? "emulated (" + emulator + " " + Machine(Get("MicroTvmEmulatorArguments")) + ")" : "hardware, flash with " + (runner.Length > 0 ? runner : "?");
                regions.TryGetValue("FLASH", out long flash);
                regions.TryGetValue("RAM", out long ram);
                rows.Add(new[] { name, Get("MicroTvmCpu"), Size(flash), Size(ram), runsOn, Get("MicroTvmBoardDescription") });
                var item = new TaskItem(name);
                item.SetMetadata("Cpu", Get("MicroTvmCpu"));
                item.SetMetadata("FlashBytes", flash.ToString(CultureInfo.InvariantCulture));
                item.SetMetadata("RamBytes", ram.ToString(CultureInfo.InvariantCulture));
                item.SetMetadata("RunsOn", runsOn);
                PathUtil.SetLiteral(item, "Description", Get("MicroTvmBoardDescription"));
                items.Add(item);
            }
            Boards = items.ToArray();
            var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
            foreach (var row in rows)
            {
                LiveOutput.Line(this, string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
            }
            if (!string.IsNullOrEmpty(ProjectFile))
            {
                // The terminal logger's one line per project: the summary under the table.
                Log.LogMessage(MessageImportance.High, "{0} -> {1} ({2} boards: {3})", Path.GetFileNameWithoutExtension(ProjectFile), BoardsDirectory,
                    items.Count, string.Join(", ", items.Select(i => $"{i.ItemSpec} {i.GetMetadata("Cpu")}")));
            }
            return true;
        }

        /// <summary>The board's properties as written (a board.props sets each once, conditioned on being empty).</summary>
        private static Dictionary<string, string> Properties(string file)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var element in XDocument.Load(file).Descendants().Where(e => e.Parent?.Name.LocalName == "PropertyGroup"))
            {
                if (!result.ContainsKey(element.Name.LocalName))
                {
                    result[element.Name.LocalName] = element.Value.Trim();
                }
            }
            return result;
        }

        private static Dictionary<string, long> Regions(string script)
        {
            var result = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
            foreach (Match match in Region.Matches(script))
            {
                string text = match.Groups["length"].Value;
                long scale = text.EndsWith("K", StringComparison.Ordinal) ? 1024 : text.EndsWith("M", StringComparison.Ordinal) ? 1024 * 1024 : 1;
                string digits = scale == 1 ? text : text.Substring(0, text.Length - 1);
                long value = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                    ? long.Parse(digits.Substring(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                    : long.Parse(digits, CultureInfo.InvariantCulture);
                result[match.Groups["name"].Value] = value * scale;
            }
            return result;
        }

        private static string Machine(string emulatorArguments)
        {
            var arguments = ProcessRunner.SplitFlags(emulatorArguments);
            int index = arguments.IndexOf("-machine");
            return index >= 0 && index + 1 < arguments.Count ? arguments[index + 1] : "";
        }

        private static string Size(long bytes) =>
            bytes == 0 ? "?" : bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes / 1024} KiB";
    }
}
