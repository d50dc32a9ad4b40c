using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Writes the ROM and RAM reports of the linked firmware (as Zephyr's rom_report and ram_report do): bytes by module
    /// (each model, the project, the runtime, the board support, each C library), by file and by symbol, read from the
    /// .elf's sections and symbol table and the .map's input sections, so they count what was linked, not what was compiled.
    /// </summary>
    public sealed class MicroTvmMemoryReport : Task
    {
        [Required]
        public string ElfFile { get; set; } = "";

        [Required]
        public string MapFile { get; set; } = "";

        [Required]
        public string RomReportFile { get; set; } = "";

        [Required]
        public string RamReportFile { get; set; } = "";

        /// <summary>MicroTvmObjectFile items (metadata Source).</summary>
        public ITaskItem[] ObjectFiles { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>MicroTvmModel items (metadata ModelName, SourceFile).</summary>
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>Where the objects are (obj/&lt;cfg&gt;/c/), to name the SDK's own sources.</summary>
        public string ObjectDirectory { get; set; } = "";

        [Required]
        public string ProjectDirectory { get; set; } = "";

        public string? Board { get; set; }

        /// <summary>rom, ram or both: also log that report (the RomReport, RamReport and MemoryReport targets).</summary>
        public string? Show { get; set; }

        public override bool Execute()
        {
            LinkedImage image;
            try
            {
                image = LinkedImage.Read(ElfFile, MapFile, withSymbols: true);
            }
            catch (Exception e) when (DamagedFirmware.IsReadError(e))
            {
                DamagedFirmware.Report(Log, ElfFile, e);
                return false;
            }

            var naming = new FileNaming(ObjectFiles, Models, ProjectDirectory, ObjectDirectory);
            string rom = Report("ROM", "flash: code, constants and the initial values of .data", LinkedImage.InRom, image, naming);
            string ram = Report("RAM", "RAM: .data, .bss, stack and heap (a model's workspace is the buffer the project declares for it)", LinkedImage.InRam, image, naming);
            PathUtil.WriteIfDifferent(RomReportFile, rom);
            PathUtil.WriteIfDifferent(RamReportFile, ram);
            Log.LogMessage(MessageImportance.High, "  memory reports: {0}, {1}", Shown(RomReportFile), Shown(RamReportFile));

            string show = (Show ?? "").ToLowerInvariant();
            if (show == "rom" || show == "both")
            {
                Log.LogMessage(MessageImportance.High, "{0}", rom);
            }
            if (show == "ram" || show == "both")
            {
                Log.LogMessage(MessageImportance.High, "{0}", ram);
            }
            return true;
        }

        private string Shown(string path) => PathUtil.RelativeInside(ProjectDirectory, Path.GetFullPath(path)) ?? path;

        private string Report(string title, string what, Func<ElfSection, bool> counts, LinkedImage image, FileNaming naming)
        {
            var c = CultureInfo.InvariantCulture;
            ulong total = 0;
            foreach (var section in image.Sections.Where(counts))
            {
                total += section.Size;
            }
            var byFile = new Dictionary<string, ulong>(StringComparer.Ordinal);
            ulong attributed = 0;
            foreach (var input in image.Inputs.Where(i => counts(i.Output) && i.File.Length > 0))
            {
                string file = naming.Display(input.File);
                byFile.TryGetValue(file, out ulong bytes);
                byFile[file] = bytes + input.Size;
                attributed += input.Size;
            }
            const string linker = "(linker: fill, alignment, stack, heap)";
            if (total > attributed)
            {
                byFile[linker] = total - attributed;
            }
            var byModule = byFile.GroupBy(f => f.Key == linker ? linker : naming.Module(f.Key))
                .Select(g => (Name: g.Key, Bytes: g.Aggregate(0UL, (sum, f) => sum + f.Value)));

            string Percent(ulong bytes) => (total == 0 ? 0 : 100.0 * bytes / total).ToString("0.00", c).PadLeft(6);
            string Bytes(ulong bytes) => bytes.ToString("N0", c).PadLeft(11);

            var text = new StringBuilder();
            text.AppendFormat(c, "{0} report of {1}{2}: {3:N0} bytes\n", title, Shown(ElfFile), string.IsNullOrEmpty(Board) ? "" : " (" + Board + ")", total);
            text.AppendFormat(c, "{0}, as linked (sections the linker dropped count nothing).\n", char.ToUpperInvariant(what[0]) + what.Substring(1));
            text.Append("\nBy module\n").Append("      bytes       %  module\n");
            foreach (var (name, bytes) in byModule.OrderByDescending(m => m.Bytes).ThenBy(m => m.Name, StringComparer.Ordinal))
            {
                text.Append(Bytes(bytes)).Append("  ").Append(Percent(bytes)).Append("  ").Append(name).Append('\n');
            }
            text.Append("\nBy file\n").Append("      bytes       %  file\n");
            foreach (var file in byFile.OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal))
            {
                text.Append(Bytes(file.Value)).Append("  ").Append(Percent(file.Value)).Append("  ").Append(file.Key).Append('\n');
            }
            text.Append("\nBy symbol (functions and objects of the symbol table; 'static' = local to its file)\n")
                .Append("      bytes       %  address     kind    symbol  file\n");
            var locate = image.SymbolLocator();
            foreach (var symbol in image.Symbols.Where(s => counts(s.Section))
                .OrderByDescending(s => s.Size).ThenBy(s => s.Address).ThenBy(s => s.Name, StringComparer.Ordinal))
            {
                var input = locate(symbol);
                text.Append(Bytes(symbol.Size)).Append("  ").Append(Percent(symbol.Size))
                    .AppendFormat(c, "  0x{0:x8}  {1,-6}  {2}{3}  {4}\n", symbol.Address, symbol.IsFunction ? "func" : "object",
                        symbol.IsLocal ? "static " : "", symbol.Name, input == null ? "(linker script)" : naming.Display(input.File));
            }
            return text.ToString();
        }

        /// <summary>Names a map file's object as the project knows it: the source it came from, inside the project or the SDK.</summary>
        private sealed class FileNaming
        {
            private readonly Dictionary<string, string> sources;
            private readonly Dictionary<string, string> modelBySource = new Dictionary<string, string>(StringComparer.Ordinal);
            private readonly Dictionary<string, string> moduleByDisplay = new Dictionary<string, string>(StringComparer.Ordinal);
            private readonly string projectDirectory;
            private readonly string objectDirectory;

            public FileNaming(ITaskItem[] objects, ITaskItem[] models, string projectDirectory, string objectDirectory)
            {
                sources = LinkedImage.SourcesOfObjects(objects);
                foreach (var model in models)
                {
                    modelBySource[Path.GetFullPath(model.GetMetadata("SourceFile"))] = model.GetMetadata("ModelName");
                }
                this.projectDirectory = projectDirectory;
                this.objectDirectory = objectDirectory.Length == 0 ? "" : Path.GetFullPath(Path.Combine(projectDirectory, objectDirectory));
            }

            public string Display(string mapFile)
            {
                string path = LinkedImage.FullPathOf(mapFile);
                string display;
                string module;
                if (sources.TryGetValue(path, out string? source))
                {
                    string full = Path.GetFullPath(source);
                    string? inSdk = objectDirectory.Length == 0 ? null : PathUtil.RelativeInside(objectDirectory, path);
                    bool sdk = inSdk != null && inSdk.Replace('\\', '/').StartsWith("sdk/", StringComparison.Ordinal);
                    display = PathUtil.RelativeInside(projectDirectory, full)
                        ?? (sdk ? inSdk!.Substring(0, inSdk!.Length - 2) + Path.GetExtension(full) : full);
                    display = display.Replace('\\', '/');
                    module = modelBySource.TryGetValue(full, out string? model) ? "model " + model
                        : sdk && display.StartsWith("sdk/crt/", StringComparison.Ordinal) ? "MicroTvm runtime (sdk/crt)"
                        : sdk && display.StartsWith("sdk/board/", StringComparison.Ordinal) ? "board support (sdk/board)"
                        : "project";
                }
                else
                {
                    int member = mapFile.IndexOf('(');
                    string archive = member > 0 ? mapFile.Substring(0, member) : mapFile;
                    display = Path.GetFileName(archive) + (member > 0 ? mapFile.Substring(member) : "");
                    module = member > 0 ? Path.GetFileName(archive) : "other objects";
                }
                moduleByDisplay[display] = module;
                return display;
            }

            public string Module(string display) => moduleByDisplay.TryGetValue(display, out string? module) ? module : "other objects";
        }
    }
}
