using System;
using System.Collections.Generic;
using System.IO;

namespace MicroTvm.Build.Tasks
{
    /// <summary>A function or data object of the linked image, from its symbol table.</summary>
    internal sealed class ElfSymbol
    {
        public ElfSymbol(string name, ulong address, ulong size, bool isFunction, bool isLocal, ElfSection section)
        {
            Name = name;
            Address = address;
            Size = size;
            IsFunction = isFunction;
            IsLocal = isLocal;
            Section = section;
        }

        public string Name { get; }

        /// <summary>Its first byte (a Thumb function's address without the mode bit).</summary>
        public ulong Address { get; }

        public ulong Size { get; }
        public bool IsFunction { get; }
        public bool IsLocal { get; }

        /// <summary>The allocated section it lives in.</summary>
        public ElfSection Section { get; }
    }

    internal static partial class ElfImage
    {
        private const uint SymbolTable = 2, FunctionType = 2, ObjectType = 1;

        /// <summary>Functions and objects with a size, in allocated sections (what ends up in flash or RAM), from .symtab.</summary>
        public static List<ElfSymbol> ReadSymbols(string path)
        {
            byte[] data = File.ReadAllBytes(path);
            var sections = ReadSections(path);
            uint sectionHeaders = U32(data, 0x20);
            int sectionHeaderSize = U16(data, 0x2E), sectionHeaderCount = U16(data, 0x30);
            ElfSection?[] byIndex = new ElfSection?[sectionHeaderCount];
            int allocated = 0;
            for (int i = 0; i < sectionHeaderCount; i++)
            {
                int at = checked((int)sectionHeaders + i * sectionHeaderSize);
                if ((U32(data, at + 8) & 0x2) != 0)
                {
                    byIndex[i] = sections[allocated++]; // ReadSections keeps the allocated ones in header order
                }
            }

            var symbols = new List<ElfSymbol>();
            for (int i = 0; i < sectionHeaderCount; i++)
            {
                int at = checked((int)sectionHeaders + i * sectionHeaderSize);
                if (U32(data, at + 4) != SymbolTable)
                {
                    continue;
                }
                int table = checked((int)U32(data, at + 16)), tableSize = checked((int)U32(data, at + 20));
                int entrySize = Math.Max(16, checked((int)U32(data, at + 36)));
                int strings = checked((int)U32(data, checked((int)sectionHeaders + (int)U32(data, at + 24) * sectionHeaderSize + 16)));
                for (int entry = table + entrySize; entry + 16 <= table + tableSize; entry += entrySize) // entry 0 is the null symbol
                {
                    uint type = (uint)data[Checked(data, entry + 12)] & 0xF, bind = (uint)data[entry + 12] >> 4;
                    ulong size = U32(data, entry + 8);
                    int sectionIndex = U16(data, entry + 14);
                    if ((type != FunctionType && type != ObjectType) || size == 0 || sectionIndex >= byIndex.Length || byIndex[sectionIndex] == null)
                    {
                        continue;
                    }
                    ulong address = U32(data, entry + 4);
                    if (type == FunctionType)
                    {
                        address &= ~1UL;
                    }
                    symbols.Add(new ElfSymbol(ReadName(data, checked(strings + (int)U32(data, entry))), address, size,
                        type == FunctionType, bind == 0, byIndex[sectionIndex]!));
                }
            }
            return symbols;
        }

        private static int Checked(byte[] data, int offset)
        {
            Check(data, offset, 1);
            return offset;
        }
    }
}
