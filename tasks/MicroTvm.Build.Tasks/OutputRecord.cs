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
    /// What a step wrote, recorded beside its outputs: one line per file, "&lt;size&gt; &lt;last write time, UTC
    /// ticks&gt; &lt;full path&gt;". A file deleted, emptied, overwritten or edited since then no longer matches its line,
    /// so the step runs again: timestamps alone would call a damaged output newer than its inputs, hence up to date.
    /// A record is written after its outputs and only when different, so a no-op build rewrites nothing.
    /// </summary>
    internal static class OutputRecord
    {
        public static string Describe(IEnumerable<string> files)
        {
            var builder = new StringBuilder();
            foreach (var file in files)
            {
                string path = Path.GetFullPath(file);
                var state = StateOf(path);
                if (state != null)
                {
                    builder.Append(state.Value.Size.ToString(CultureInfo.InvariantCulture)).Append(' ')
                        .Append(state.Value.Ticks.ToString(CultureInfo.InvariantCulture)).Append(' ')
                        .Append(path).Append('\n');
                }
            }
            return builder.ToString();
        }

        public static void Write(string recordFile, IEnumerable<string> files) => PathUtil.WriteIfDifferent(recordFile, Describe(files));

        /// <summary>The recorded state of each file (empty when the record is missing or unreadable).</summary>
        public static Dictionary<string, (long Size, long Ticks)> Read(string recordFile)
        {
            var entries = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
            string text;
            try
            {
                text = File.Exists(recordFile) ? File.ReadAllText(recordFile) : "";
            }
            catch (IOException)
            {
                return entries;
            }
            foreach (var line in text.Split('\n'))
            {
                string[] parts = line.Split(new[] { ' ' }, 3);
                if (parts.Length == 3
                    && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long size)
                    && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long ticks))
                {
                    entries[parts[2]] = (size, ticks);
                }
            }
            return entries;
        }

        /// <summary>True when <paramref name="file"/> exists as recorded.</summary>
        public static bool Matches(Dictionary<string, (long Size, long Ticks)> record, string file)
        {
            string path = Path.GetFullPath(file);
            return record.TryGetValue(path, out var recorded) && StateOf(path) == recorded;
        }

        /// <summary>The first recorded file that is missing or changed, or the record itself when it lists nothing.</summary>
        public static string? FirstMismatch(string recordFile)
        {
            var record = Read(recordFile);
            if (record.Count == 0)
            {
                return recordFile;
            }
            return record.Keys.FirstOrDefault(path => !Matches(record, path));
        }

        private static (long Size, long Ticks)? StateOf(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? (info.Length, info.LastWriteTimeUtc.Ticks) : ((long, long)?)null;
        }
    }

    /// <summary>
    /// Before a step whose MSBuild Outputs include a record file (<see cref="OutputRecord"/>): deletes each record
    /// whose files are no longer as written, so the step runs again and rewrites them (obj/ repairs itself).
    /// </summary>
    public sealed class MicroTvmCheckOutputs : Task
    {
        public string[] Records { get; set; } = Array.Empty<string>();

        [Required]
        public string ProjectDirectory { get; set; } = "";

        public override bool Execute()
        {
            foreach (var record in Records.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => Path.GetFullPath(Path.Combine(ProjectDirectory, r))))
            {
                if (!File.Exists(record))
                {
                    continue;
                }
                string? damaged = OutputRecord.FirstMismatch(record);
                if (damaged != null)
                {
                    Log.LogMessage(MessageImportance.High, "  {0} is missing or changed since the build wrote it; rebuilding it.",
                        PathUtil.RelativeInside(ProjectDirectory, damaged) ?? damaged);
                    File.Delete(record);
                }
            }
            return true;
        }
    }
}
