using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.FlatBuffers;
using S = MicroTvm.Compiler.Tflite.TfliteSchema;

namespace MicroTvm.Compiler.Tflite;

/// <summary>
/// A TFLite model file as stored, read completely and checked structurally (every reference inside the
/// FlatBuffer is in bounds) but not yet interpreted: <see cref="TfliteImporter"/> turns it into a graph.
/// </summary>
public sealed class TfliteModel
{
    private TfliteModel(FlatBuffer file, uint version, string? description, IReadOnlyList<TfliteOperatorCode> operatorCodes,
        IReadOnlyList<TfliteSubGraph> subGraphs, IReadOnlyList<TfliteBuffer> buffers, IReadOnlyList<TfliteMetadata> metadata)
    {
        File = file;
        Version = version;
        Description = description;
        OperatorCodes = operatorCodes;
        SubGraphs = subGraphs;
        Buffers = buffers;
        Metadata = metadata;
    }

    public FlatBuffer File { get; }
    public uint Version { get; }
    public string? Description { get; }
    public IReadOnlyList<TfliteOperatorCode> OperatorCodes { get; }
    public IReadOnlyList<TfliteSubGraph> SubGraphs { get; }
    public IReadOnlyList<TfliteBuffer> Buffers { get; }
    public IReadOnlyList<TfliteMetadata> Metadata { get; }

    /// <summary>Reads <paramref name="bytes"/>; errors carry no file name (the caller adds it).</summary>
    public static TfliteModel Read(byte[] bytes)
    {
        if (bytes.Length < 8)
            throw new CompilerException(ErrorCodes.MalformedModel, $"malformed model file: {bytes.Length} bytes is too short to be a TFLite model (truncated?)");
        var file = new FlatBuffer(bytes);
        if (file.FileIdentifier != S.FileIdentifier)
            throw new CompilerException(ErrorCodes.NotATfliteModel,
                $"not a TFLite model: the file identifier is '{Printable(file.FileIdentifier)}', expected '{S.FileIdentifier}'");

        var model = file.Root("Model");
        uint version = model.UInt32(S.Model.Version);
        if (version != S.SupportedVersion)
            throw new CompilerException(ErrorCodes.NotATfliteModel, $"TFLite schema version {version} is not supported (expected {S.SupportedVersion})");

        string? description = model.String(S.Model.Description, "Model.description");

        var codes = new List<TfliteOperatorCode>();
        if (model.Vector(S.Model.OperatorCodes, 4, "Model.operator_codes") is { } codeVector)
        {
            for (int i = 0; i < codeVector.Count; i++)
            {
                var code = codeVector.Table(i, $"OperatorCode {i}");
                int deprecated = code.Int8(S.OperatorCode.DeprecatedBuiltinCode);
                int extended = code.Int32(S.OperatorCode.BuiltinCode);
                // Old files fill only the 8-bit field, new ones both (the 8-bit one saturating at 127): the larger wins.
                codes.Add(new TfliteOperatorCode(
                    Math.Max(deprecated, extended),
                    code.String(S.OperatorCode.CustomCode, $"OperatorCode {i}.custom_code"),
                    code.Int32(S.OperatorCode.Version, 1)));
            }
        }

        var buffers = new List<TfliteBuffer>();
        if (model.Vector(S.Model.Buffers, 4, "Model.buffers") is { } bufferVector)
        {
            for (int i = 0; i < bufferVector.Count; i++)
                buffers.Add(ReadBuffer(file, bufferVector.Table(i, $"Buffer {i}"), i));
        }

        var metadata = new List<TfliteMetadata>();
        if (model.Vector(S.Model.Metadata, 4, "Model.metadata") is { } metadataVector)
        {
            for (int i = 0; i < metadataVector.Count; i++)
            {
                var entry = metadataVector.Table(i, $"Metadata {i}");
                metadata.Add(new TfliteMetadata(entry.String(S.Metadata.Name, $"Metadata {i}.name") ?? "", entry.UInt32(S.Metadata.Buffer)));
            }
        }

        var subGraphs = new List<TfliteSubGraph>();
        var subGraphVector = model.Vector(S.Model.SubGraphs, 4, "Model.subgraphs");
        if (subGraphVector is null || subGraphVector.Value.Count == 0)
            throw new CompilerException(ErrorCodes.NotATfliteModel, "the model has no subgraph");
        for (int i = 0; i < subGraphVector.Value.Count; i++)
            subGraphs.Add(ReadSubGraph(subGraphVector.Value.Table(i, $"SubGraph {i}"), i));

        return new TfliteModel(file, version, description, codes, subGraphs, buffers, metadata);
    }

    private static TfliteBuffer ReadBuffer(FlatBuffer file, FlatTable buffer, int index)
    {
        if (buffer.Vector(S.Buffer.Data, 1, $"Buffer {index}.data") is { Count: > 0 } data)
            return new TfliteBuffer(data.Start, data.Count);

        // Models above 2 GB keep data after the FlatBuffer: offset/size count from the start of the file; offset 0 or 1 means none.
        ulong offset = buffer.UInt64(S.Buffer.Offset);
        ulong size = buffer.UInt64(S.Buffer.Size);
        if (offset <= 1)
            return new TfliteBuffer(0, 0);
        if (offset > (ulong)file.Length || size > (ulong)file.Length - offset)
            throw new CompilerException(ErrorCodes.InvalidConstantData,
                $"buffer {index} refers to bytes {offset}..{offset + size} after the FlatBuffer, outside the {file.Length}-byte file");
        return new TfliteBuffer((int)offset, (int)size);
    }

    private static TfliteSubGraph ReadSubGraph(FlatTable subGraph, int index)
    {
        string prefix = $"SubGraph {index}";
        var tensors = new List<TfliteTensor>();
        if (subGraph.Vector(S.SubGraph.Tensors, 4, prefix + ".tensors") is { } tensorVector)
            for (int i = 0; i < tensorVector.Count; i++)
                tensors.Add(ReadTensor(tensorVector.Table(i, $"{prefix} tensor {i}"), i));

        var operators = new List<TfliteOperator>();
        if (subGraph.Vector(S.SubGraph.Operators, 4, prefix + ".operators") is { } operatorVector)
        {
            for (int i = 0; i < operatorVector.Count; i++)
            {
                var op = operatorVector.Table(i, $"{prefix} operator {i}");
                byte optionsType = op.UInt8(S.Operator.BuiltinOptionsType);
                FlatTable? options = optionsType == 0 ? null : op.Table(S.Operator.BuiltinOptions, $"{prefix} operator {i} options");
                operators.Add(new TfliteOperator(
                    op.UInt32(S.Operator.OpcodeIndex),
                    Ints(op.Vector(S.Operator.Inputs, 4, $"{prefix} operator {i} inputs")),
                    Ints(op.Vector(S.Operator.Outputs, 4, $"{prefix} operator {i} outputs")),
                    optionsType,
                    options)
                {
                    CustomOptions = op.Vector(S.Operator.CustomOptions, 1, $"{prefix} operator {i} custom options")?.Bytes.ToArray() ?? Array.Empty<byte>(),
                });
            }
        }

        return new TfliteSubGraph(
            subGraph.String(S.SubGraph.Name, prefix + ".name"),
            tensors,
            Ints(subGraph.Vector(S.SubGraph.Inputs, 4, prefix + ".inputs")),
            Ints(subGraph.Vector(S.SubGraph.Outputs, 4, prefix + ".outputs")),
            operators);
    }

    private static TfliteTensor ReadTensor(FlatTable tensor, int index)
    {
        TfliteQuantization? quantization = null;
        if (tensor.Table(S.Tensor.Quantization, $"tensor {index} quantization") is { } q)
        {
            quantization = new TfliteQuantization(
                q.Vector(S.Quantization.Scale, 4, $"tensor {index} scales")?.ToFloat32Array() ?? Array.Empty<float>(),
                q.Vector(S.Quantization.ZeroPoint, 8, $"tensor {index} zero points")?.ToInt64Array() ?? Array.Empty<long>(),
                q.Int32(S.Quantization.QuantizedDimension),
                q.UInt8(S.Quantization.DetailsType) != 0);
        }

        return new TfliteTensor(
            index,
            tensor.String(S.Tensor.Name, $"tensor {index} name") ?? "",
            tensor.Int8(S.Tensor.Type),
            Ints(tensor.Vector(S.Tensor.Shape, 4, $"tensor {index} shape")),
            tensor.Vector(S.Tensor.ShapeSignature, 4, $"tensor {index} shape signature")?.ToInt32Array(),
            tensor.UInt32(S.Tensor.Buffer),
            quantization,
            tensor.Bool(S.Tensor.IsVariable),
            tensor.Has(S.Tensor.Sparsity));
    }

    private static int[] Ints(FlatVector? vector) => vector?.ToInt32Array() ?? Array.Empty<int>();

    private static string Printable(string s) => new(s.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
}

/// <param name="BuiltinCode">The operator's BuiltinOperator value (the larger of the 8-bit and 32-bit fields).</param>
public sealed record TfliteOperatorCode(int BuiltinCode, string? CustomCode, int Version)
{
    public bool IsCustom => BuiltinCode == TfliteSchema.CustomOperatorCode;

    /// <summary>CONV_2D, …; for custom operators the custom code.</summary>
    public string Name => IsCustom ? $"custom operator '{CustomCode}'" : TfliteSchema.BuiltinOperatorName(BuiltinCode);
}

public sealed record TfliteSubGraph(string? Name, IReadOnlyList<TfliteTensor> Tensors, int[] Inputs, int[] Outputs, IReadOnlyList<TfliteOperator> Operators);

/// <param name="Type">TFLite TensorType value.</param>
/// <param name="ShapeSignature">Shape with -1 for dynamic dimensions, when the converter stored one.</param>
public sealed record TfliteTensor(int Index, string Name, sbyte Type, int[] Shape, int[]? ShapeSignature, uint Buffer,
    TfliteQuantization? Quantization, bool IsVariable, bool IsSparse)
{
    /// <summary>The TensorType's schema name in lower case (int8, float32, …).</summary>
    public string TypeName => TfliteSchema.TensorTypeName(Type);
}

public sealed record TfliteQuantization(float[] Scales, long[] ZeroPoints, int QuantizedDimension, bool HasCustomDetails);

/// <param name="Options">The builtin options table, null when absent (defaults apply).</param>
public sealed record TfliteOperator(uint OpcodeIndex, int[] Inputs, int[] Outputs, byte OptionsType, FlatTable? Options)
{
    /// <summary>A custom operator's custom_options bytes as stored (empty when absent), handed to its C implementation unread.</summary>
    public byte[] CustomOptions { get; init; } = Array.Empty<byte>();
}

/// <summary>Where a buffer's bytes lie in the file (Length 0: no data).</summary>
public sealed record TfliteBuffer(int Start, int Length);

public sealed record TfliteMetadata(string Name, uint Buffer);
