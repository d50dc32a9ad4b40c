using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Reports how much of each memory region of the linked firmware is used ("Flash: 0.2% (9,040 of 4,194,304
    /// bytes)"), from the ELF sections and the regions the linker lists in the map file, plus text/data/bss.
    /// </summary>
    public sealed class MicroTvmReportSize : Task
    {
        [Required]
        public string ElfFile { get; set; } = "";

        [Required]
        public string MapFile { get; set; } = "";

        /// <summary>The project's name, for the "name -> firmware (figures)" line that terminal loggers show.</summary>
        public string? ProjectName { get; set; }

        public string? Board { get; set; }

        /// <summary>One item per region: Name; metadata Origin, Length, Used (bytes).</summary>
        [Output]
        public ITaskItem[] Regions { get; set; } = Array.Empty<ITaskItem>();

        [Output]
        public long Text { get; set; }

        [Output]
        public long Data { get; set; }

        [Output]
        public long Bss { get; set; }

        public override bool Execute()
        {
            List<ElfSection> sections;
            List<MemoryRegion> regions;
            try
            {
                sections = ElfImage.ReadSections(ElfFile);
                regions = ElfImage.RegionUsage(sections, MapFile);
            }
            catch (Exception e) when (DamagedFirmware.IsReadError(e))
            {
                DamagedFirmware.Report(Log, ElfFile, e);
                return false;
            }

            Text = (long)sections.Where(s => !s.NoBits && !s.Writable).Sum(s => (decimal)s.Size);
            Data = (long)sections.Where(s => !s.NoBits && s.Writable).Sum(s => (decimal)s.Size);
            Bss = (long)sections.Where(s => s.NoBits).Sum(s => (decimal)s.Size);

            var culture = CultureInfo.InvariantCulture;
            foreach (var region in regions)
            {
                Log.LogMessage(MessageImportance.High, "  {0}: {1}% ({2} of {3} bytes)",
                    DisplayName(region.Name), Percent(region), region.Used.ToString("N0", culture), region.Length.ToString("N0", culture));
            }
            Log.LogMessage(MessageImportance.High, "  text {0}, data {1}, bss {2} bytes ({3})",
                Text.ToString("N0", culture), Data.ToString("N0", culture), Bss.ToString("N0", culture), Path.GetFileName(ElfFile));

            if (!string.IsNullOrEmpty(ProjectName))
            {
                // The terminal logger (dotnet build's default in a terminal) shows, at normal verbosity, only the text after
                // " -> " of a "<project> -> <output>" message; so the one-line summary goes there. No '/' in the figures:
                // the logger takes the folder of this text for its link.
                string figures = string.Join(", ", regions.Select(r => string.Format(culture, "{0} {1} B ({2}%)",
                    DisplayName(r.Name), r.Used.ToString("N0", culture), Percent(r))));
                Log.LogMessage(MessageImportance.High, "{0} -> {1} ({2}{3}{4})", ProjectName, Path.GetFullPath(ElfFile), Board,
                    string.IsNullOrEmpty(Board) || figures.Length == 0 ? "" : ": ", figures);
            }

            Regions = regions.Select(r =>
            {
                var item = new TaskItem(r.Name);
                item.SetMetadata("Origin", "0x" + r.Origin.ToString("x8", culture));
                item.SetMetadata("Length", r.Length.ToString(culture));
                item.SetMetadata("Used", r.Used.ToString(culture));
                return (ITaskItem)item;
            }).ToArray();
            return true;
        }

        private static string Percent(MemoryRegion region) =>
            (region.Length == 0 ? 0 : 100.0 * region.Used / region.Length).ToString("0.0", CultureInfo.InvariantCulture);

        private static string DisplayName(string region) =>
            string.Equals(region, "FLASH", StringComparison.OrdinalIgnoreCase) ? "Flash" : region;
    }
}
