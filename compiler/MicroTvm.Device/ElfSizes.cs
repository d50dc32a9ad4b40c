using System.Buffers.Binary;

namespace MicroTvm.Device;

/// <summary>Flash and RAM of a linked 32-bit little-endian ELF from its section headers: flash is every allocated
/// section with contents (code, constants, .data's initial values), RAM every allocated writable one.</summary>
public sealed record ElfSizes(long Flash, long Data, long Bss)
{
    public static ElfSizes Read(string path)
    {
        var b = File.ReadAllBytes(path);
        if (b.Length < 52 || b[0] != 0x7F || b[1] != (byte)'E' || b[4] != 1 || b[5] != 1)
            throw new InvalidDataException($"{path} is not a 32-bit little-endian ELF file");
        uint shoff = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(32));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(46)), shnum = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(48));
        long flash = 0, data = 0, bss = 0;
        for (int i = 0; i < shnum; i++)
        {
            var s = b.AsSpan((int)shoff + i * shentsize);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(s[4..]), flags = BinaryPrimitives.ReadUInt32LittleEndian(s[8..]);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(s[20..]);
            const uint alloc = 2, write = 1, nobits = 8;
            if ((flags & alloc) == 0) continue;
            if (type == nobits)
            {
                if ((flags & write) != 0) bss += size;
                continue;
            }

            flash += size;
            if ((flags & write) != 0) data += size;
        }

        return new ElfSizes(flash, data, bss);
    }
}
