using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace MicroTvm.Build.Tasks
{
    internal sealed class MemoryRegion
    {
        public MemoryRegion(string name, ulong origin, ulong length)
        {
            Name = name;
            Origin = origin;
            Length = length;
        }

        public string Name { get; }
        public ulong Origin { get; }
        public ulong Length { get; }
        public ulong Used { get; set; }

        public bool Contains(ulong address) => address >= Origin && address - Origin < Length;
    }

    internal sealed class ElfSection
    {
        public ElfSection(string name, uint type, uint flags, ulong address, ulong loadAddress, ulong size)
        {
            Name = name;
            Type = type;
            Flags = flags;
            Address = address;
            LoadAddress = loadAddress;
            Size = size;
        }

        public string Name { get; }
        public uint Type { get; }
        public uint Flags { get; }
        public ulong Address { get; }
        public ulong LoadAddress { get; }
        public ulong Size { get; }

        public bool Allocated => (Flags & 0x2) != 0;
        public bool Writable => (Flags & 0x1) != 0;
        public bool NoBits => Type == 8;
    }

    /// <summary>The allocated sections of a 32-bit little-endian ELF image, with their load addresses.</summary>
    internal static partial class ElfImage
    {
        public static List<ElfSection> ReadSections(string path)
        {
            byte[] data = File.ReadAllBytes(path);
            if (data.Length < 52 || data[0] != 0x7F || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F' || data[4] != 1 || data[5] != 1)
            {
                throw new InvalidDataException($"{Path.GetFileName(path)} is not a 32-bit little-endian ELF file.");
            }
            uint programHeaders = U32(data, 0x1C), sectionHeaders = U32(data, 0x20);
            int programHeaderSize = U16(data, 0x2A), programHeaderCount = U16(data, 0x2C);
            int sectionHeaderSize = U16(data, 0x2E), sectionHeaderCount = U16(data, 0x30), namesIndex = U16(data, 0x32);

            var segments = new List<(ulong Virtual, ulong Physical, ulong Size)>();
            for (int i = 0; i < programHeaderCount; i++)
            {
                int at = checked((int)programHeaders + i * programHeaderSize);
                if (U32(data, at) == 1) // PT_LOAD
                {
                    segments.Add((U32(data, at + 8), U32(data, at + 12), U32(data, at + 20)));
                }
            }

            int namesOffset = checked((int)U32(data, checked((int)sectionHeaders + namesIndex * sectionHeaderSize + 16)));
            var sections = new List<ElfSection>();
            for (int i = 0; i < sectionHeaderCount; i++)
            {
                int at = checked((int)sectionHeaders + i * sectionHeaderSize);
                uint flags = U32(data, at + 8);
                if ((flags & 0x2) == 0)
                {
                    continue;
                }
                string name = ReadName(data, checked(namesOffset + (int)U32(data, at)));
                uint type = U32(data, at + 4);
                ulong address = U32(data, at + 12), size = U32(data, at + 20);
                ulong load = address;
                if (type != 8)
                {
                    foreach (var segment in segments)
                    {
                        if (address >= segment.Virtual && address + size <= segment.Virtual + segment.Size)
                        {
                            load = segment.Physical + (address - segment.Virtual);
                            break;
                        }
                    }
                }
                sections.Add(new ElfSection(name, type, flags, address, load, size));
            }
            return sections;
        }

        /// <summary>The memory regions of the map with the bytes the image's sections take in each (the initial values of
        /// .data count in flash as well as in RAM).</summary>
        public static List<MemoryRegion> RegionUsage(IEnumerable<ElfSection> sections, string mapFile)
        {
            var regions = ReadMemoryRegions(mapFile);
            void Add(ulong address, ulong size)
            {
                var region = regions.FirstOrDefault(r => r.Contains(address));
                if (region != null)
                {
                    region.Used += size;
                }
            }
            foreach (var section in sections.Where(s => s.Size > 0))
            {
                Add(section.Address, section.Size);
                if (!section.NoBits && section.LoadAddress != section.Address)
                {
                    Add(section.LoadAddress, section.Size);
                }
            }
            return regions;
        }

        /// <summary>Reads the "Memory Configuration" table GNU ld writes at the top of a map file.</summary>
        public static List<MemoryRegion> ReadMemoryRegions(string mapFile)
        {
            var regions = new List<MemoryRegion>();
            var row = new Regex(@"^(?<name>\S+)\s+0x(?<origin>[0-9a-fA-F]+)\s+0x(?<length>[0-9a-fA-F]+)");
            bool inTable = false;
            foreach (var line in File.ReadLines(mapFile))
            {
                if (line.StartsWith("Memory Configuration", StringComparison.Ordinal))
                {
                    inTable = true;
                    continue;
                }
                if (!inTable)
                {
                    continue;
                }
                if (line.StartsWith("Linker script and memory map", StringComparison.Ordinal))
                {
                    break;
                }
                var match = row.Match(line);
                if (match.Success && match.Groups["name"].Value != "*default*")
                {
                    regions.Add(new MemoryRegion(
                        match.Groups["name"].Value,
                        ulong.Parse(match.Groups["origin"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                        ulong.Parse(match.Groups["length"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
                }
            }
            return regions;
        }

        private static string ReadName(byte[] data, int offset)
        {
            Check(data, offset, 0);
            int end = offset;
            while (end < data.Length && data[end] != 0)
            {
                end++;
            }
            return System.Text.Encoding.ASCII.GetString(data, offset, end - offset);
        }

        private static uint U32(byte[] data, int offset)
        {
            Check(data, offset, 4);
            return (uint)(data[offset] | data[offset + 1] << 8 | data[offset + 2] << 16 | data[offset + 3] << 24);
        }

        private static int U16(byte[] data, int offset)
        {
            Check(data, offset, 2);
            return data[offset] | data[offset + 1] << 8;
        }

        /// <summary>A truncated or overwritten image points outside itself: that is bad data, never an index exception.</summary>
        private static void Check(byte[] data, int offset, int size)
        {
            if (offset < 0 || offset > data.Length - size)
            {
                throw new InvalidDataException($"it is truncated or overwritten (a header points to byte {offset} of {data.Length}).");
            }
        }
    }
}
