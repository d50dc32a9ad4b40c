using System.Buffers.Binary;
using System.Text;
using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Compiler.FlatBuffers;

/// <summary>
/// A read-only view of a FlatBuffers binary that trusts nothing in it: every offset, length and vtable entry is
/// checked against the buffer before it is followed, and every vector a caller materialises is charged against
/// a budget proportional to the file size, so a file whose tables share sub-objects many times over cannot make
/// the reader allocate or loop far beyond what the file itself holds. Reading is schema-driven and never
/// recursive. Any violation is a <see cref="CompilerException"/> with <see cref="ErrorCodes.MalformedModel"/>.
/// </summary>
public sealed class FlatBuffer
{
    private readonly byte[] _bytes;
    private long _budget;

    /// <param name="bytes">The whole file.</param>
    /// <param name="budgetFactor">How many bytes may be materialised per byte of file (plus a small constant).</param>
    public FlatBuffer(byte[] bytes, int budgetFactor = 8)
    {
        _bytes = bytes;
        _budget = (long)bytes.Length * budgetFactor + 65536;
    }

    public int Length => _bytes.Length;

    /// <summary>The 4-character file identifier stored after the root offset ("" when the file is too short).</summary>
    public string FileIdentifier => _bytes.Length >= 8 ? Encoding.ASCII.GetString(_bytes, 4, 4) : "";

    /// <summary>The root table (the uoffset at byte 0).</summary>
    public FlatTable Root(string what)
    {
        Require(0, 4, "the root offset");
        return TableAt(ReadUInt32(0), what);
    }

    /// <summary>Bytes [start, start+length), which must lie in the buffer.</summary>
    public ReadOnlySpan<byte> Slice(long start, long length, string what)
    {
        Require(start, length, what);
        return new ReadOnlySpan<byte>(_bytes, (int)start, (int)length);
    }

    /// <summary>A copy of bytes [start, start+length), charged against the budget.</summary>
    public byte[] Copy(long start, long length, string what)
    {
        var span = Slice(start, length, what);
        Charge(length, what);
        return span.ToArray();
    }

    /// <summary>Accounts for materialising <paramref name="bytes"/> bytes; fails once the budget is spent.</summary>
    public void Charge(long bytes, string what)
    {
        _budget -= bytes;
        if (_budget < 0)
            throw Malformed($"reading {what} would materialise far more data than the file holds (shared or self-referencing sub-objects)");
    }

    internal FlatTable TableAt(long position, string what)
    {
        Require(position, 4, $"{what} table");
        Charge(16, what);
        long vtable = position - ReadInt32((int)position);
        Require(vtable, 4, $"{what} vtable");
        int vtableSize = ReadUInt16((int)vtable);
        int tableSize = ReadUInt16((int)vtable + 2);
        if (vtableSize < 4 || (vtableSize & 1) != 0)
            throw Malformed($"{what} vtable at byte {vtable} has invalid size {vtableSize}");
        if (tableSize < 4)
            throw Malformed($"{what} table at byte {position} has invalid size {tableSize}");
        Require(vtable, vtableSize, $"{what} vtable");
        Require(position, tableSize, $"{what} table");
        return new FlatTable(this, (int)position, (int)vtable, vtableSize, tableSize, what);
    }

    /// <summary>The target of the uoffset stored at <paramref name="position"/>.</summary>
    internal long FollowOffset(int position, string what)
    {
        Require(position, 4, $"the offset to {what}");
        uint offset = ReadUInt32(position);
        if (offset == 0)
            throw Malformed($"the offset to {what} at byte {position} is zero");
        long target = position + (long)offset;
        if (target >= _bytes.Length)
            throw Malformed($"the offset to {what} at byte {position} points to byte {target}, outside the {_bytes.Length}-byte file");
        return target;
    }

    internal FlatVector VectorAt(long position, int elementSize, string what)
    {
        Require(position, 4, $"{what} length");
        uint count = ReadUInt32((int)position);
        long start = position + 4;
        long byteLength = (long)count * elementSize;
        if (byteLength > _bytes.Length - start)
            throw Malformed($"{what} at byte {position} claims {count} elements of {elementSize} bytes, beyond the end of the {_bytes.Length}-byte file");
        return new FlatVector(this, (int)start, (int)count, elementSize, what);
    }

    internal void Require(long start, long length, string what)
    {
        if (start < 0 || length < 0 || start > _bytes.Length || length > _bytes.Length - start)
            throw Malformed($"{what} (bytes {start}..{start + length}) lies outside the {_bytes.Length}-byte file");
    }

    internal byte ReadByte(int position) => _bytes[position];
    internal ushort ReadUInt16(int position) => BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(position, 2));
    internal int ReadInt32(int position) => BinaryPrimitives.ReadInt32LittleEndian(_bytes.AsSpan(position, 4));
    internal uint ReadUInt32(int position) => BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(position, 4));
    internal long ReadInt64(int position) => BinaryPrimitives.ReadInt64LittleEndian(_bytes.AsSpan(position, 8));
    internal ulong ReadUInt64(int position) => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(position, 8));
    internal float ReadSingle(int position) => BinaryPrimitives.ReadSingleLittleEndian(_bytes.AsSpan(position, 4));

    internal static CompilerException Malformed(string message) =>
        new(ErrorCodes.MalformedModel, "malformed model file: " + message);
}

/// <summary>A table of a <see cref="FlatBuffer"/>: fields are addressed by their schema id (0, 1, …).</summary>
public readonly struct FlatTable
{
    private readonly FlatBuffer _buffer;
    private readonly int _position;
    private readonly int _vtable;
    private readonly int _vtableSize;
    private readonly int _tableSize;

    internal FlatTable(FlatBuffer buffer, int position, int vtable, int vtableSize, int tableSize, string what)
    {
        _buffer = buffer;
        _position = position;
        _vtable = vtable;
        _vtableSize = vtableSize;
        _tableSize = tableSize;
        What = what;
    }

    /// <summary>What the table is (for messages), e.g. "Tensor 3".</summary>
    public string What { get; }

    public FlatBuffer Buffer => _buffer;

    public bool Has(int field) => FieldOffset(field) != 0;

    public byte UInt8(int field, byte defaultValue = 0)
    {
        int p = FieldPosition(field, 1);
        return p < 0 ? defaultValue : _buffer.ReadByte(p);
    }

    public sbyte Int8(int field, sbyte defaultValue = 0)
    {
        int p = FieldPosition(field, 1);
        return p < 0 ? defaultValue : unchecked((sbyte)_buffer.ReadByte(p));
    }

    public bool Bool(int field, bool defaultValue = false)
    {
        int p = FieldPosition(field, 1);
        return p < 0 ? defaultValue : _buffer.ReadByte(p) != 0;
    }

    public int Int32(int field, int defaultValue = 0)
    {
        int p = FieldPosition(field, 4);
        return p < 0 ? defaultValue : _buffer.ReadInt32(p);
    }

    public uint UInt32(int field, uint defaultValue = 0)
    {
        int p = FieldPosition(field, 4);
        return p < 0 ? defaultValue : _buffer.ReadUInt32(p);
    }

    public ulong UInt64(int field, ulong defaultValue = 0)
    {
        int p = FieldPosition(field, 8);
        return p < 0 ? defaultValue : _buffer.ReadUInt64(p);
    }

    public float Float32(int field, float defaultValue = 0)
    {
        int p = FieldPosition(field, 4);
        return p < 0 ? defaultValue : _buffer.ReadSingle(p);
    }

    /// <summary>The sub-table in <paramref name="field"/>, or null when the field is absent.</summary>
    public FlatTable? Table(int field, string what)
    {
        int p = FieldPosition(field, 4);
        return p < 0 ? null : _buffer.TableAt(_buffer.FollowOffset(p, what), what);
    }

    /// <summary>The vector in <paramref name="field"/> with elements of <paramref name="elementSize"/> bytes, or null when absent.</summary>
    public FlatVector? Vector(int field, int elementSize, string what)
    {
        int p = FieldPosition(field, 4);
        return p < 0 ? null : _buffer.VectorAt(_buffer.FollowOffset(p, what), elementSize, what);
    }

    /// <summary>The string in <paramref name="field"/> (invalid UTF-8 becomes U+FFFD), or null when absent.</summary>
    public string? String(int field, string what)
    {
        var vector = Vector(field, 1, what);
        return vector?.ToUtf8String();
    }

    private int FieldOffset(int field)
    {
        int entry = 4 + 2 * field;
        if (entry + 2 > _vtableSize) return 0;
        return _buffer.ReadUInt16(_vtable + entry);
    }

    /// <summary>Absolute position of a present field's value, -1 when absent; the value must lie inside the table.</summary>
    private int FieldPosition(int field, int size)
    {
        int offset = FieldOffset(field);
        if (offset == 0) return -1;
        if (offset + size > _tableSize)
            throw FlatBuffer.Malformed($"{What}: field {field} (offset {offset}, {size} bytes) lies outside its {_tableSize}-byte table");
        return _position + offset;
    }
}

/// <summary>A vector of a <see cref="FlatBuffer"/>, known to lie wholly inside the buffer.</summary>
public readonly struct FlatVector
{
    private readonly FlatBuffer _buffer;
    private readonly int _start;
    private readonly int _elementSize;

    internal FlatVector(FlatBuffer buffer, int start, int count, int elementSize, string what)
    {
        _buffer = buffer;
        _start = start;
        Count = count;
        _elementSize = elementSize;
        What = what;
    }

    public int Count { get; }

    public string What { get; }

    /// <summary>Position of the first element in the file.</summary>
    public int Start => _start;

    public int ByteLength => Count * _elementSize;

    public ReadOnlySpan<byte> Bytes => _buffer.Slice(_start, ByteLength, What);

    /// <summary>Element <paramref name="index"/> of a vector of tables.</summary>
    public FlatTable Table(int index, string what) =>
        _buffer.TableAt(_buffer.FollowOffset(Position(index, 4), what), what);

    public int Int32(int index) => _buffer.ReadInt32(Position(index, 4));

    public long Int64(int index) => _buffer.ReadInt64(Position(index, 8));

    public float Float32(int index) => _buffer.ReadSingle(Position(index, 4));

    public int[] ToInt32Array()
    {
        _buffer.Charge(ByteLength, What);
        var result = new int[Count];
        for (int i = 0; i < result.Length; i++) result[i] = Int32(i);
        return result;
    }

    public long[] ToInt64Array()
    {
        _buffer.Charge(ByteLength, What);
        var result = new long[Count];
        for (int i = 0; i < result.Length; i++) result[i] = Int64(i);
        return result;
    }

    public float[] ToFloat32Array()
    {
        _buffer.Charge(ByteLength, What);
        var result = new float[Count];
        for (int i = 0; i < result.Length; i++) result[i] = Float32(i);
        return result;
    }

    public string ToUtf8String()
    {
        _buffer.Charge(ByteLength, What);
        return Encoding.UTF8.GetString(Bytes);
    }

    private int Position(int index, int size)
    {
        if ((uint)index >= (uint)Count || size != _elementSize)
            throw new ArgumentOutOfRangeException(nameof(index), $"{What}: element {index} of {Count} ({size}-byte read of {_elementSize}-byte elements)");
        return _start + index * _elementSize;
    }
}
