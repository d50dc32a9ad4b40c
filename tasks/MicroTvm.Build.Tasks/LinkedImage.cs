using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.Build.Framework;

namespace MicroTvm.Build.Tasks
{
    /// <summary>One input section the linker placed, as its map file lists it: which object (or archive member) it came from.</summary>
    internal sealed class InputSection
    {
        public InputSection(ElfSection output, string name, ulong address, ulong size, string file)
        {
            Output = output;
            Name = name;
            Address = address;
            Size = size;
            File = file;
        }

        public ElfSection Output { get; }
        public string Name { get; }
        public ulong Address { get; }
        public ulong Size { get; }

        /// <summary>The object file, "lib.a(member.o)", or "" for the linker's own fill.</summary>
        public string File { get; }
    }

    /// <summary>
    /// The linked firmware as the memory reports see it: the allocated sections and symbols of the .elf, and from the
    /// .map which object each input section came from (sections dropped by --gc-sections are not in it). ROM is what
    /// occupies flash (code, constants, .data's initial values), RAM what occupies RAM (.data, .bss, stack, heap).
    /// </summary>
    internal sealed class LinkedImage
    {
        private static readonly Regex OneLine = new Regex(@"^ (?<name>\S+)\s+0x(?<address>[0-9a-fA-F]+)\s+0x(?<size>[0-9a-fA-F]+)(?:\s+(?<file>\S.*?))?\s*$", RegexOptions.Compiled);
        private static readonly Regex NameOnly = new Regex(@"^ (?<name>[^\s*]\S*)\s*$", RegexOptions.Compiled);
        private static readonly Regex Continuation = new Regex(@"^\s{2,}0x(?<address>[0-9a-fA-F]+)\s+0x(?<size>[0-9a-fA-F]+)(?:\s+(?<file>\S.*?))?\s*$", RegexOptions.Compiled);

        private LinkedImage(List<ElfSection> sections, List<InputSection> inputs, List<ElfSymbol> symbols)
        {
            Sections = sections;
            Inputs = inputs;
            Symbols = symbols;
        }

        public List<ElfSection> Sections { get; }
        public List<InputSection> Inputs { get; }
        public List<ElfSymbol> Symbols { get; }

        public static bool InRom(ElfSection section) => !section.NoBits;

        public static bool InRam(ElfSection section) => section.Writable;

        public static LinkedImage Read(string elfFile, string mapFile, bool withSymbols)
        {
            var sections = ElfImage.ReadSections(elfFile).Where(s => s.Size > 0).ToList();
            var byName = new Dictionary<string, ElfSection>(StringComparer.Ordinal);
            foreach (var section in sections)
            {
                byName[section.Name] = section;
            }
            return new LinkedImage(sections, ReadInputSections(mapFile, byName), withSymbols ? ElfImage.ReadSymbols(elfFile) : new List<ElfSymbol>());
        }

        /// <summary>The input sections of GNU ld's map after "Linker script and memory map" that landed in an allocated output section.</summary>
        private static List<InputSection> ReadInputSections(string mapFile, Dictionary<string, ElfSection> outputs)
        {
            var inputs = new List<InputSection>();
            bool inMap = false;
            ElfSection? output = null;
            string? pending = null;
            foreach (string line in System.IO.File.ReadLines(mapFile))
            {
                if (!inMap)
                {
                    inMap = line.StartsWith("Linker script and memory map", StringComparison.Ordinal);
                    continue;
                }
                if (line.Length == 0)
                {
                    continue;
                }
                if (line[0] != ' ')
                {
                    // An output section (".text  0x0 0x1234", or its name alone when long), or LOAD/OUTPUT lines.
                    string first = line.Split(' ')[0];
                    output = first.StartsWith(".", StringComparison.Ordinal) && outputs.TryGetValue(first, out var found) ? found : null;
                    pending = null;
                    continue;
                }
                if (output == null)
                {
                    continue;
                }
                Match match;
                if (pending != null && (match = Continuation.Match(line)).Success)
                {
                    Add(inputs, output, pending, match);
                }
                else if ((match = OneLine.Match(line)).Success)
                {
                    Add(inputs, output, match.Groups["name"].Value, match);
                }
                pending = (match = NameOnly.Match(line)).Success && !line.Contains("(") ? match.Groups["name"].Value : null;
            }
            return inputs;
        }

        private static void Add(List<InputSection> inputs, ElfSection output, string name, Match match)
        {
            ulong size = ulong.Parse(match.Groups["size"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                return;
            }
            ulong address = ulong.Parse(match.Groups["address"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            string file = name == "*fill*" ? "" : match.Groups["file"].Value;
            inputs.Add(new InputSection(output, name, address, size, file));
        }

        /// <summary>The input section a symbol lies in (null: made by the linker script).</summary>
        public Func<ElfSymbol, InputSection?> SymbolLocator()
        {
            var ordered = Inputs.OrderBy(i => i.Address).ToList();
            var starts = ordered.Select(i => i.Address).ToArray();
            return symbol =>
            {
                int index = Array.BinarySearch(starts, symbol.Address);
                if (index < 0)
                {
                    index = ~index - 1;
                }
                // Sections of different outputs may share an address only when one is empty; walk back over equal starts.
                for (int k = index; k >= 0 && k > index - 4; k--)
                {
                    var input = ordered[k];
                    if (input.Output.Name == symbol.Section.Name && symbol.Address >= input.Address && symbol.Address < input.Address + input.Size)
                    {
                        return input;
                    }
                }
                return null;
            };
        }

        /// <summary>Bytes of flash and RAM each object file occupies in the image, by the file's path as the map names it.</summary>
        public Dictionary<string, (ulong Rom, ulong Ram)> BytesByFile()
        {
            var totals = new Dictionary<string, (ulong Rom, ulong Ram)>(StringComparer.Ordinal);
            foreach (var input in Inputs)
            {
                totals.TryGetValue(input.File, out var total);
                totals[input.File] = (total.Rom + (InRom(input.Output) ? input.Size : 0), total.Ram + (InRam(input.Output) ? input.Size : 0));
            }
            return totals;
        }

        /// <summary>Object path (full, normalised) → the source it was compiled from, from MicroTvmObjectFile items.</summary>
        public static Dictionary<string, string> SourcesOfObjects(IEnumerable<ITaskItem> objects)
        {
            var sources = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in objects)
            {
                sources[Path.GetFullPath(item.ItemSpec)] = item.GetMetadata("Source");
            }
            return sources;
        }

        /// <summary>A map file's name of an object as a full path ("lib.a(member.o)" stays as it is).</summary>
        public static string FullPathOf(string mapFile) =>
            mapFile.Length == 0 || mapFile.EndsWith(")", StringComparison.Ordinal) ? mapFile : Path.GetFullPath(mapFile);
    }
}
