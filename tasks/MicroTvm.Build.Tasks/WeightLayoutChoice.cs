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
    /// The build's one decision for <c>MicroTvmWeightLayout=auto</c> (docs/tuning.md): the models are compiled with the
    /// speed layout unless a link with it overflowed the board's flash, and then with the size layout. The decision is a
    /// file of the intermediate folder (written only by the link that overflowed), read before the models' options are
    /// written, so it is an input of the incremental build: a no-op rebuild neither recompiles nor relinks. It holds a key
    /// of what it was decided for (board, linker script, models and their options); when that changes, speed is tried again.
    /// It also holds the flash of the speed link and of the first size link: when the application shrinks so far that a
    /// later size link leaves room for the widened weights' extra bytes, the link drops the decision (MicroTvmLink).
    /// </summary>
    internal static class WeightLayoutChoice
    {
        public const string Speed = "speed";
        public const string Size = "size";
        public const string Auto = "auto";

        public static bool IsValid(string layout) => layout == Speed || layout == Size || layout == Auto;

        /// <summary>A size decision: why, the flash the speed link took (absent in a file an older SDK wrote), and (once a
        /// size link followed) the flash that took.</summary>
        public sealed class CompactDecision
        {
            public CompactDecision(string reason, long? speedFlash, long? sizeFlash)
            {
                Reason = reason;
                SpeedFlash = speedFlash;
                SizeFlash = sizeFlash;
            }

            public string Reason { get; }
            public long? SpeedFlash { get; }
            public long? SizeFlash { get; }
        }

        /// <summary>The size decision the file holds for <paramref name="key"/>, or null when it decides nothing for it.</summary>
        public static CompactDecision? ReadCompact(string? file, string key)
        {
            if (string.IsNullOrEmpty(file) || !File.Exists(file))
            {
                return null;
            }
            var values = File.ReadAllLines(file!).Select(l => l.Split(new[] { '=' }, 2)).Where(p => p.Length == 2)
                .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
            if (!(values.TryGetValue("layout", out var layout) && layout == Size && values.TryGetValue("key", out var k) && k == key
                && values.TryGetValue("reason", out var reason)))
            {
                return null;
            }
            long? Number(string name) => values.TryGetValue(name, out var text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : (long?)null;
            return new CompactDecision(reason, Number("speedFlash"), Number("sizeFlash"));
        }

        public static void WriteCompact(string file, string key, long speedFlash, long flashLength)
        {
            string reason = string.Format(CultureInfo.InvariantCulture, "auto: speed {0:N0} B > flash {1:N0} B", speedFlash, flashLength);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
            File.WriteAllLines(file, new[] { "layout=" + Size, "key=" + key, "reason=" + reason, "speedFlash=" + speedFlash.ToString(CultureInfo.InvariantCulture) });
        }

        /// <summary>The flash of the first link with the size layout, beside the speed link's: their difference is what
        /// the widened weights cost, whatever the application around them.</summary>
        public static void RecordSizeFlash(string file, long sizeFlash) =>
            File.AppendAllLines(file, new[] { "sizeFlash=" + sizeFlash.ToString(CultureInfo.InvariantCulture) });

        /// <summary>The size report's words for a model's weights: "int16 (auto: speed fits)"; null when the model has no layout choice.</summary>
        public static string? Describe(ITaskItem model, string? weightLayout, string? file, string key)
        {
            if (string.IsNullOrEmpty(weightLayout))
            {
                return null;
            }
            string requested = model.GetMetadata("ModelWeightLayout");
            string why = requested != Auto ? requested : ReadCompact(file, key)?.Reason ?? "auto: speed fits";
            return weightLayout + " (" + why + ")";
        }
    }

    /// <summary>Reads the auto decision: <see cref="Compact"/> when the last link with the speed layout overflowed the flash
    /// for the same <see cref="Key"/>.</summary>
    public sealed class MicroTvmReadWeightLayout : Task
    {
        public string? DecisionFile { get; set; }

        [Required]
        public string Key { get; set; } = "";

        [Output]
        public string Layout { get; set; } = WeightLayoutChoice.Speed;

        public override bool Execute()
        {
            Layout = WeightLayoutChoice.ReadCompact(DecisionFile, Key) != null ? WeightLayoutChoice.Size : WeightLayoutChoice.Speed;
            return true;
        }
    }
}
