using System.Buffers.Binary;
using System.Globalization;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen;

/// <summary>
/// The model's constant data: every array becomes one <c>static const</c> definition in the generated source, so
/// it lands in flash and needs no initialisation. Names are unique within the model's translation unit.
/// </summary>
internal sealed class ConstantPool
{
    private readonly CodeWriter _code = new();
    private readonly HashSet<string> _names = new();

    /// <summary>Bytes of all constant arrays (what the model adds to flash besides code).</summary>
    public long Bytes { get; private set; }

    public string Code => _code.ToString();

    public string Int8(string name, IReadOnlyList<sbyte> values, string comment) => Add(name, "int8_t", 1, values.Select(v => CLiteral.Int(v)).ToList(), comment);

    public string UInt8(string name, IReadOnlyList<byte> values, string comment) => Add(name, "uint8_t", 1, values.Select(v => CLiteral.Int(v)).ToList(), comment);

    public string UInt16(string name, IReadOnlyList<ushort> values, string comment) => Add(name, "uint16_t", 2, values.Select(v => CLiteral.Int(v)).ToList(), comment);

    public string Int16(string name, IReadOnlyList<short> values, string comment) => Add(name, "int16_t", 2, values.Select(v => CLiteral.Int(v)).ToList(), comment);

    public string Int32(string name, IReadOnlyList<int> values, string comment) => Add(name, "int32_t", 4, values.Select(v => CLiteral.Int(v)).ToList(), comment);

    public string Int64(string name, IReadOnlyList<long> values, string comment) => Add(name, "int64_t", 8, values.Select(v => CLiteral.Int(v)).ToList(), comment);

    public string Float(string name, IReadOnlyList<float> values, string comment) => Add(name, "float", 4, values.Select(v => CLiteral.Float(v)).ToList(), comment);

    /// <summary>A constant tensor's data as it is (element type preserved).</summary>
    public string Tensor(string name, Tensor tensor, string comment)
    {
        var data = tensor.Data ?? throw new ArgumentException("not a constant", nameof(tensor));
        switch (tensor.Type)
        {
            case ElementType.Int8: return Int8(name, Decode.Int8(data), comment);
            case ElementType.UInt8:
            case ElementType.Bool: return UInt8(name, data, comment);
            case ElementType.Int16: return Int16(name, Decode.Int16(data), comment);
            case ElementType.Int32: return Int32(name, Decode.Int32(data), comment);
            case ElementType.Int64: return Int64(name, Decode.Int64(data), comment);
            case ElementType.Float32:
                var floats = Decode.Float32(data);
                if (floats.Any(f => !float.IsFinite(f)))
                    throw new CompilerException(ErrorCodes.UnrepresentableConstant, $"constant tensor {tensor} holds an infinite or NaN value, which generated C cannot represent");
                return Float(name, floats, comment);
            default: throw new ArgumentOutOfRangeException(nameof(tensor), tensor.Type, null);
        }
    }

    private readonly Dictionary<string, string> _byContent = new();

    private string Add(string name, string cType, int elementSize, IReadOnlyList<string> literals, string comment)
    {
        // Identical arrays (the same table in two operators, a weight tensor used twice) are emitted once.
        string key = cType + ":" + string.Join(",", literals);
        if (_byContent.TryGetValue(key, out var existing)) return existing;
        _byContent[key] = name;
        if (!_names.Add(name)) throw new InvalidOperationException($"constant {name} defined twice");
        _code.Line($"/* {CLiteral.CommentText(comment)} */");
        // A zero-length array is not C99: keep one dummy element (never read).
        var items = literals.Count == 0 ? new[] { "0" } : literals;
        _code.Line($"static const {cType} {name}[{items.Count}] = {{");
        const int perLine = 16;
        for (int i = 0; i < items.Count; i += perLine)
            _code.Line("    " + string.Join(", ", items.Skip(i).Take(perLine)) + (i + perLine < items.Count ? "," : ""));
        _code.Line("};");
        Bytes += (long)literals.Count * elementSize;
        return name;
    }
}

/// <summary>Little-endian decoding of constant tensor bytes.</summary>
internal static class Decode
{
    public static sbyte[] Int8(byte[] data) => data.Select(b => unchecked((sbyte)b)).ToArray();

    public static short[] Int16(byte[] data) => Enumerable.Range(0, data.Length / 2).Select(i => BinaryPrimitives.ReadInt16LittleEndian(data.AsSpan(i * 2))).ToArray();

    public static int[] Int32(byte[] data) => Enumerable.Range(0, data.Length / 4).Select(i => BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(i * 4))).ToArray();

    public static long[] Int64(byte[] data) => Enumerable.Range(0, data.Length / 8).Select(i => BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(i * 8))).ToArray();

    public static float[] Float32(byte[] data) => Enumerable.Range(0, data.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(i * 4))).ToArray();

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
