using System.Buffers.Binary;
using System.Text;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Tests.Frontend;

/// <summary>
/// Test helper: writes small TFLite models (schema version 3) so tests can build single-operator graphs with
/// known answers, or well-formed models with one chosen defect. Written from the schema's field ids; it
/// deliberately allows nonsense (dangling indices, cycles, unknown codes, unsupported types).
/// </summary>
/// <example>
/// var b = new TfliteModelBuilder();
/// int x = b.AddTensor("x", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, -1));
/// int y = b.AddTensor("y", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, -1));
/// b.AddOperator(TfliteModelBuilder.Builtin.Relu, new[] { x }, new[] { y });
/// b.Inputs.Add(x); b.Outputs.Add(y);
/// Graph g = TfliteImporter.Load(b.Build());
/// </example>
public sealed class TfliteModelBuilder
{
    /// <summary>BuiltinOperator values (schema.fbs).</summary>
    public static class Builtin
    {
        public const int Add = 0, AveragePool2D = 1, Concatenation = 2, Conv2D = 3, DepthwiseConv2D = 4, Dequantize = 6,
            FullyConnected = 9, Logistic = 14, MaxPool2D = 17, Mul = 18, Relu = 19, Relu6 = 21, Reshape = 22, Softmax = 25,
            Tanh = 28, Custom = 32, Pad = 34, Transpose = 39, Mean = 40, Sub = 41, Div = 42, Squeeze = 43, StridedSlice = 45,
            Maximum = 55, Minimum = 57, PadV2 = 60, TransposeConv = 67, ExpandDims = 70, LeakyRelu = 98, Quantize = 114,
            HardSwish = 117, Gelu = 150;
    }

    /// <summary>TensorType values (schema.fbs).</summary>
    public static class TensorTypes
    {
        public const sbyte Float32 = 0, Float16 = 1, Int32 = 2, UInt8 = 3, Int64 = 4, String = 5, Bool = 6, Int16 = 7,
            Complex64 = 8, Int8 = 9, Float64 = 10;

        public static sbyte Of(ElementType type) => type switch
        {
            ElementType.Float32 => Float32,
            ElementType.Int8 => Int8,
            ElementType.UInt8 => UInt8,
            ElementType.Int16 => Int16,
            ElementType.Int32 => Int32,
            ElementType.Int64 => Int64,
            ElementType.Bool => Bool,
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    /// <summary>Builtin options: the BuiltinOptions union member and the table's fields.</summary>
    public sealed record Options(byte UnionType, FbTable Table)
    {
        public const int Same = 0, Valid = 1;

        /// <summary>ActivationFunctionType values: NONE 0, RELU 1, RELU_N1_TO_1 2, RELU6 3, TANH 4.</summary>
        public static Options Conv2D(int padding, int strideW, int strideH, int activation = 0, int dilationW = 1, int dilationH = 1) =>
            new(1, new FbTable().Int8(0, padding).Int32(1, strideW).Int32(2, strideH).Int8(3, activation).Int32(4, dilationW).Int32(5, dilationH));

        public static Options DepthwiseConv2D(int padding, int strideW, int strideH, int depthMultiplier, int activation = 0, int dilationW = 1, int dilationH = 1) =>
            new(2, new FbTable().Int8(0, padding).Int32(1, strideW).Int32(2, strideH).Int32(3, depthMultiplier).Int8(4, activation).Int32(5, dilationW).Int32(6, dilationH));

        public static Options Pool2D(int padding, int strideW, int strideH, int filterW, int filterH, int activation = 0) =>
            new(5, new FbTable().Int8(0, padding).Int32(1, strideW).Int32(2, strideH).Int32(3, filterW).Int32(4, filterH).Int8(5, activation));

        public static Options FullyConnected(int activation = 0, bool keepNumDims = false, int weightsFormat = 0) =>
            new(8, new FbTable().Int8(0, activation).Int8(1, weightsFormat).Bool(2, keepNumDims));

        public static Options Softmax(float beta) => new(9, new FbTable().Float32(0, beta));

        public static Options Concatenation(int axis, int activation = 0) => new(10, new FbTable().Int32(0, axis).Int8(1, activation));

        public static Options Add(int activation = 0, bool potScaleInt16 = true) => new(11, new FbTable().Int8(0, activation).Bool(1, potScaleInt16));

        public static Options Reshape(params int[] newShape) => new(17, new FbTable().Vector(0, FbVector.Ints(newShape)));

        public static Options Mul(int activation = 0) => new(21, new FbTable().Int8(0, activation));

        public static Options Reducer(bool keepDims) => new(27, new FbTable().Bool(0, keepDims));

        public static Options Sub(int activation = 0, bool potScaleInt16 = true) => new(28, new FbTable().Int8(0, activation).Bool(1, potScaleInt16));

        public static Options Squeeze(params int[] dims) => new(30, new FbTable().Vector(0, FbVector.Ints(dims)));

        public static Options StridedSlice(int beginMask = 0, int endMask = 0, int ellipsisMask = 0, int newAxisMask = 0, int shrinkAxisMask = 0, bool offset = false) =>
            new(32, new FbTable().Int32(0, beginMask).Int32(1, endMask).Int32(2, ellipsisMask).Int32(3, newAxisMask).Int32(4, shrinkAxisMask).Bool(5, offset));

        public static Options TransposeConv(int padding, int strideW, int strideH, int activation = 0) =>
            new(49, new FbTable().Int8(0, padding).Int32(1, strideW).Int32(2, strideH).Int8(3, activation));

        public static Options LeakyRelu(float alpha) => new(75, new FbTable().Float32(0, alpha));
    }

    private readonly List<byte[]> _buffers = new() { Array.Empty<byte>() };
    private readonly List<FbTable> _tensors = new();
    private readonly List<FbTable> _operators = new();
    private readonly List<(int Builtin, string? Custom)> _codes = new();

    public List<int> Inputs { get; } = new();
    public List<int> Outputs { get; } = new();
    public uint Version { get; set; } = 3;
    public string FileIdentifier { get; set; } = "TFL3";
    public string Description { get; set; } = "built by TfliteModelBuilder";

    /// <summary>Write buffers after the FlatBuffer (Buffer.offset/size), as converters do for models above 2 GB.</summary>
    public bool ExternalBuffers { get; set; }

    /// <summary>Fill only OperatorCode.deprecated_builtin_code, as files from before schema 3a do.</summary>
    public bool LegacyOperatorCodes { get; set; }

    /// <summary>Extra (unreferenced unless an operator says so) subgraphs, appended after subgraph 0.</summary>
    public int ExtraSubGraphs { get; set; }

    public int AddBuffer(byte[] data)
    {
        _buffers.Add(data);
        return _buffers.Count - 1;
    }

    /// <summary>Adds a tensor; with <paramref name="data"/> it is a constant. Returns its index.</summary>
    public int AddTensor(string name, ElementType type, int[] shape, byte[]? data = null, (float Scale, long ZeroPoint)? quantization = null) =>
        AddTensor(name, TensorTypes.Of(type), shape, data, quantization is { } q ? new[] { q.Scale } : null,
            quantization is { } z ? new[] { z.ZeroPoint } : null);

    /// <summary>Adds a tensor with raw TFLite fields (any type value, per-channel quantization, shape signature, any buffer index, is_variable).</summary>
    public int AddTensor(string name, sbyte type, int[] shape, byte[]? data = null, float[]? scales = null, long[]? zeroPoints = null,
        int quantizedDimension = 0, int[]? shapeSignature = null, uint? bufferIndex = null, bool isVariable = false)
    {
        uint buffer = bufferIndex ?? (data is null ? 0u : (uint)AddBuffer(data));
        var tensor = new FbTable().Vector(0, FbVector.Ints(shape)).Int8(1, type).UInt32(2, buffer).String(3, name);
        if (scales is not null)
        {
            var q = new FbTable().Vector(2, FbVector.Floats(scales)).Vector(3, FbVector.Longs(zeroPoints ?? new long[scales.Length]))
                .Int32(6, quantizedDimension);
            tensor.Table(4, q);
        }

        if (shapeSignature is not null) tensor.Vector(7, FbVector.Ints(shapeSignature));
        if (isVariable) tensor.Bool(5, true);
        _tensors.Add(tensor);
        return _tensors.Count - 1;
    }

    /// <summary>Adds a builtin operator (or a custom one when <paramref name="customCode"/> is set). Use -1 for an absent optional input.</summary>
    public int AddOperator(int builtinCode, int[] inputs, int[] outputs, Options? options = null, string? customCode = null, int version = 1, byte[]? customOptions = null)
    {
        int code = _codes.IndexOf((builtinCode, customCode));
        if (code < 0)
        {
            _codes.Add((builtinCode, customCode));
            code = _codes.Count - 1;
        }

        return AddOperatorWithCodeIndex((uint)code, inputs, outputs, options, customOptions);
    }

    /// <summary>Adds an operator with a raw operator-code index (which may be out of range).</summary>
    public int AddOperatorWithCodeIndex(uint codeIndex, int[] inputs, int[] outputs, Options? options = null, byte[]? customOptions = null)
    {
        var op = new FbTable().UInt32(0, codeIndex).Vector(1, FbVector.Ints(inputs)).Vector(2, FbVector.Ints(outputs));
        if (customOptions is not null) op.Vector(5, FbVector.Bytes(customOptions, 1));
        if (options is not null) op.UInt8(3, options.UnionType).Table(4, options.Table);
        _operators.Add(op);
        return _operators.Count - 1;
    }

    /// <summary>A chain of int8 operators over [1,4] (scale 0.5): RELU where the entry is null, else the custom
    /// operator it names — models that fail at chosen operator indices.</summary>
    public static byte[] Int8Chain(params string?[] customOperators)
    {
        var b = new TfliteModelBuilder();
        int[] t = Enumerable.Range(0, customOperators.Length + 1).Select(i => b.AddTensor("t" + i, ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, 0))).ToArray();
        b.Inputs.Add(t[0]);
        b.Outputs.Add(t[^1]);
        for (int i = 0; i < customOperators.Length; i++)
        {
            if (customOperators[i] is { } custom) b.AddOperator(Builtin.Custom, new[] { t[i] }, new[] { t[i + 1] }, customCode: custom);
            else b.AddOperator(Builtin.Relu, new[] { t[i] }, new[] { t[i + 1] });
        }

        return b.Build();
    }

    public byte[] Build()
    {
        if (!ExternalBuffers) return BuildFlatBuffer(null);
        // Offsets are fixed-width fields, so a first pass gives the FlatBuffer's length and a second writes the real offsets.
        int length = BuildFlatBuffer(_buffers.Select(_ => 2UL).ToArray()).Length;
        var offsets = new ulong[_buffers.Count];
        long cursor = length;
        for (int i = 0; i < _buffers.Count; i++)
        {
            if (_buffers[i].Length == 0) continue;
            cursor = (cursor + 15) / 16 * 16;
            offsets[i] = (ulong)cursor;
            cursor += _buffers[i].Length;
        }

        var file = new byte[cursor];
        var flatBuffer = BuildFlatBuffer(offsets);
        flatBuffer.CopyTo(file, 0);
        for (int i = 0; i < _buffers.Count; i++)
            if (_buffers[i].Length > 0) _buffers[i].CopyTo(file, (long)offsets[i]);
        return file;
    }

    private byte[] BuildFlatBuffer(ulong[]? externalOffsets)
    {
        var codes = _codes.Select(c =>
        {
            var t = new FbTable().Int8(0, (sbyte)Math.Min(c.Builtin, 127)).Int32(2, 1);
            if (!LegacyOperatorCodes) t.Int32(3, c.Builtin);
            if (c.Custom is not null) t.String(1, c.Custom);
            return t;
        }).ToList();
        var subGraph = new FbTable()
            .Vector(0, FbVector.Tables(_tensors))
            .Vector(1, FbVector.Ints(Inputs.ToArray()))
            .Vector(2, FbVector.Ints(Outputs.ToArray()))
            .Vector(3, FbVector.Tables(_operators))
            .String(4, "main");
        var subGraphs = new List<FbTable> { subGraph };
        for (int i = 0; i < ExtraSubGraphs; i++)
            subGraphs.Add(new FbTable().Vector(0, FbVector.Tables(new List<FbTable>())).String(4, $"extra{i}"));
        var buffers = _buffers.Select((b, i) => b.Length == 0 ? new FbTable()
            : externalOffsets is null ? new FbTable().Vector(0, FbVector.Bytes(b, 16))
            : new FbTable().UInt64(1, externalOffsets[i]).UInt64(2, (ulong)b.Length)).ToList();
        var model = new FbTable()
            .UInt32(0, Version)
            .Vector(1, FbVector.Tables(codes))
            .Vector(2, FbVector.Tables(subGraphs))
            .String(3, Description)
            .Vector(4, FbVector.Tables(buffers))
            .Vector(6, FbVector.Tables(new List<FbTable> { new FbTable().String(0, "min_runtime_version").UInt32(1, 0) }));
        return FbWriter.Write(model, FileIdentifier);
    }

    // Little-endian helpers for constant data.
    public static byte[] Floats(params float[] values) => Encode(values, 4, (s, v) => BinaryPrimitives.WriteSingleLittleEndian(s, v));
    public static byte[] Int32s(params int[] values) => Encode(values, 4, (s, v) => BinaryPrimitives.WriteInt32LittleEndian(s, v));
    public static byte[] Int64s(params long[] values) => Encode(values, 8, (s, v) => BinaryPrimitives.WriteInt64LittleEndian(s, v));
    public static byte[] Int16s(params short[] values) => Encode(values, 2, (s, v) => BinaryPrimitives.WriteInt16LittleEndian(s, v));
    public static byte[] Int8s(params sbyte[] values) => values.Select(v => unchecked((byte)v)).ToArray();

    private delegate void Writer<T>(Span<byte> span, T value);

    private static byte[] Encode<T>(T[] values, int size, Writer<T> write)
    {
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++) write(bytes.AsSpan(i * size), values[i]);
        return bytes;
    }
}

/// <summary>A FlatBuffers table under construction: fields by schema id.</summary>
public sealed class FbTable
{
    internal readonly SortedDictionary<int, object> Fields = new();

    public FbTable Int8(int field, int value) { Fields[field] = new byte[] { unchecked((byte)(sbyte)value) }; return this; }
    public FbTable UInt8(int field, byte value) { Fields[field] = new[] { value }; return this; }
    public FbTable Bool(int field, bool value) => UInt8(field, value ? (byte)1 : (byte)0);
    public FbTable Int32(int field, int value) { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, value); Fields[field] = b; return this; }
    public FbTable UInt32(int field, uint value) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, value); Fields[field] = b; return this; }
    public FbTable UInt64(int field, ulong value) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, value); Fields[field] = b; return this; }
    public FbTable Float32(int field, float value) { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, value); Fields[field] = b; return this; }
    public FbTable Table(int field, FbTable value) { Fields[field] = value; return this; }
    public FbTable Vector(int field, FbVector value) { Fields[field] = value; return this; }
    public FbTable String(int field, string value) { Fields[field] = FbVector.Bytes(Encoding.UTF8.GetBytes(value), 4, nullTerminated: true); return this; }
}

/// <summary>A FlatBuffers vector under construction: scalars (raw bytes) or tables.</summary>
public sealed class FbVector
{
    internal byte[]? Scalars;
    internal int ElementSize;
    internal int Alignment;
    internal bool NullTerminated;
    internal List<FbTable>? TableElements;

    public static FbVector Bytes(byte[] bytes, int alignment = 4, bool nullTerminated = false) =>
        new() { Scalars = bytes, ElementSize = 1, Alignment = alignment, NullTerminated = nullTerminated };

    public static FbVector Ints(int[] values) => new() { Scalars = TfliteModelBuilder.Int32s(values), ElementSize = 4, Alignment = 4 };
    public static FbVector Longs(long[] values) => new() { Scalars = TfliteModelBuilder.Int64s(values), ElementSize = 8, Alignment = 8 };
    public static FbVector Floats(float[] values) => new() { Scalars = TfliteModelBuilder.Floats(values), ElementSize = 4, Alignment = 4 };
    public static FbVector Tables(List<FbTable> tables) => new() { TableElements = tables, ElementSize = 4, Alignment = 4 };

    internal int Count => TableElements?.Count ?? Scalars!.Length / ElementSize;
}

/// <summary>
/// Serialises a tree of <see cref="FbTable"/>/<see cref="FbVector"/> front to back: every object is written
/// after the one that refers to it, so all uoffsets are positive as FlatBuffers requires; each vtable sits
/// just before its table. Scalars are aligned to their size, vectors of 8-byte elements to 8.
/// </summary>
internal static class FbWriter
{
    public static byte[] Write(FbTable root, string identifier)
    {
        var output = new List<byte>();
        output.AddRange(new byte[4]);
        output.AddRange(Encoding.ASCII.GetBytes(identifier.PadRight(4).Substring(0, 4)));
        var pending = new Queue<(int PatchAt, object Node)>();
        pending.Enqueue((0, root));
        while (pending.Count > 0)
        {
            var (patchAt, node) = pending.Dequeue();
            int position = node switch
            {
                FbTable table => WriteTable(output, table, pending),
                FbVector vector => WriteVector(output, vector, pending),
                _ => throw new InvalidOperationException(),
            };
            Patch(output, patchAt, (uint)(position - patchAt));
        }

        return output.ToArray();
    }

    private static int WriteTable(List<byte> output, FbTable table, Queue<(int, object)> pending)
    {
        // Inline layout: soffset, then fields (8-byte ones first, then 4, then 1), each aligned to its size.
        var layout = table.Fields.Select(f => (Field: f.Key, Value: f.Value, Size: f.Value is byte[] b ? b.Length : 4))
            .OrderByDescending(f => f.Size).ToList();
        int fieldCount = table.Fields.Count == 0 ? 0 : table.Fields.Keys.Max() + 1;
        int vtableSize = 4 + 2 * fieldCount;

        // Place the table so that it (and its 8-byte fields) end up aligned: vtable, padding, table.
        int vtableStart = output.Count;
        int tableStart = Align(vtableStart + vtableSize, 8);
        if (layout.Any(f => f.Size == 8) && (tableStart + 4) % 8 != 0) tableStart += 4;
        var offsets = new Dictionary<int, int>();
        int cursor = 4;
        foreach (var f in layout)
        {
            cursor = Align(tableStart + cursor, f.Size) - tableStart;
            offsets[f.Field] = cursor;
            cursor += f.Size;
        }

        int tableSize = cursor;
        Write16(output, vtableSize);
        Write16(output, tableSize);
        for (int i = 0; i < fieldCount; i++) Write16(output, offsets.TryGetValue(i, out int o) ? o : 0);
        while (output.Count < tableStart) output.Add(0);
        output.AddRange(new byte[tableSize]);
        Patch(output, tableStart, unchecked((uint)(tableStart - vtableStart)));
        foreach (var f in layout)
        {
            int at = tableStart + offsets[f.Field];
            if (f.Value is byte[] bytes)
                for (int i = 0; i < bytes.Length; i++) output[at + i] = bytes[i];
            else
                pending.Enqueue((at, f.Value));
        }

        return tableStart;
    }

    private static int WriteVector(List<byte> output, FbVector vector, Queue<(int, object)> pending)
    {
        int alignment = Math.Max(4, vector.Alignment);
        while ((output.Count + 4) % alignment != 0) output.Add(0);
        int start = output.Count;
        var count = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(count, (uint)vector.Count);
        output.AddRange(count);
        if (vector.TableElements is { } tables)
        {
            int first = output.Count;
            output.AddRange(new byte[4 * tables.Count]);
            for (int i = 0; i < tables.Count; i++) pending.Enqueue((first + 4 * i, tables[i]));
        }
        else
        {
            output.AddRange(vector.Scalars!);
            if (vector.NullTerminated) output.Add(0);
        }

        while (output.Count % 4 != 0) output.Add(0);
        return start;
    }

    private static int Align(int value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private static void Write16(List<byte> output, int value)
    {
        output.Add((byte)value);
        output.Add((byte)(value >> 8));
    }

    private static void Patch(List<byte> output, int at, uint value)
    {
        for (int i = 0; i < 4; i++) output[at + i] = (byte)(value >> (8 * i));
    }
}
