using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Names the code of a fault report ("*** MicroTvm fault: exception 3 at pc=0x... lr=0x..." from the startup code's
    /// fault handler): the stacked pc and lr symbolised to function, file and line by arm-none-eabi-addr2line, started
    /// with an argument list (no shell) on the firmware's .elf.
    /// </summary>
    internal static class FaultLocation
    {
        private static readonly Regex Registers = new Regex(@"\bpc=0x(?<pc>[0-9a-fA-F]{1,8}) lr=0x(?<lr>[0-9a-fA-F]{1,8})");

        /// <summary>" pc is in f at file:line (lr: g at file:line)." or "" when it cannot be told (no addr2line, no line info).</summary>
        public static string Describe(string faultLine, string? addressToLinePath, string elf)
        {
            var match = Registers.Match(faultLine);
            if (!match.Success || string.IsNullOrEmpty(addressToLinePath) || !File.Exists(addressToLinePath) || !File.Exists(elf))
            {
                return "";
            }
            uint pc = uint.Parse(match.Groups["pc"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            uint lr = uint.Parse(match.Groups["lr"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            // lr holds a return address with the Thumb bit; the call is the instruction before it. An EXC_RETURN value
            // (0xFFFFFFxx) is no code address.
            var addresses = new List<string> { "0x" + pc.ToString("x", CultureInfo.InvariantCulture) };
            bool lrIsCode = lr < 0xF0000000u && lr > 1u;
            if (lrIsCode)
            {
                addresses.Add("0x" + ((lr & ~1u) - 2u).ToString("x", CultureInfo.InvariantCulture));
            }
            ProcessResult result;
            try
            {
                result = ProcessRunner.Run(addressToLinePath!, new[] { "-f", "-C", "-e", Path.GetFullPath(elf) }.Concat(addresses).ToList(),
                    Path.GetDirectoryName(Path.GetFullPath(elf))!, CancellationToken.None, timeout: TimeSpan.FromSeconds(30));
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return "";
            }
            var lines = result.Output.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
            if (result.ExitCode != 0 || lines.Count < 2 * addresses.Count)
            {
                return "";
            }
            string? where = Place(lines[0], lines[1]);
            if (where == null)
            {
                return "";
            }
            string? caller = lrIsCode ? Place(lines[2], lines[3]) : null;
            return $" The faulting instruction (pc) is in {where}" + (caller != null ? $", called from {caller} (lr)." : ".");
        }

        /// <summary>"main at /src/main.c:12", or null when addr2line knows neither function nor line ("??").</summary>
        private static string? Place(string function, string fileLine)
        {
            // addr2line appends " (discriminator N)" to some lines.
            int discriminator = fileLine.IndexOf(" (discriminator", StringComparison.Ordinal);
            if (discriminator >= 0)
            {
                fileLine = fileLine.Substring(0, discriminator);
            }
            bool knowsFunction = function != "??";
            bool knowsLine = !fileLine.StartsWith("??", StringComparison.Ordinal);
            return !knowsFunction && !knowsLine ? null
                : knowsLine ? $"{(knowsFunction ? function : "??")} at {fileLine}"
                : function;
        }
    }
}
