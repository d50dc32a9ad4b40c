using System.Buffers.Binary;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.FlatBuffers;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Tflite;

/// <summary>
/// Turns a TFLite model into a checked <see cref="Graph"/>: operators with typed attributes, tensors with shapes,
/// types, quantization and constant data. Subgraph 0 is the model. Constant operands that only describe an
/// operation (new shapes, permutations, paddings, axes, slice bounds, output shapes) become attributes; data
/// operands stay node inputs in TFLite order, absent optional ones as null. Every problem is a
/// <see cref="CompilerException"/> naming the file and, where there is one, the operator.
/// </summary>
public static class TfliteImporter
{
    /// <summary>Every operator the importer accepts, by TFLite name.</summary>
    public static IReadOnlyList<string> SupportedOperatorNames { get; } = OpKind.All.Select(k => k.Name).ToArray();

    /// <summary>Reads and imports the model file at <paramref name="path"/>; <paramref name="customOperators"/> are those with
    /// an implementation (default: none, every custom operator is refused).</summary>
    public static Graph Load(string path, CustomOperators? customOperators = null)
    {
        byte[] bytes;
        try
        {
            bytes = System.IO.File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
        {
            throw new CompilerException(ErrorCodes.ModelFileUnreadable, $"cannot read the model file: {e.Message}") { File = path };
        }

        return Load(bytes, path, customOperators: customOperators);
    }

    /// <summary>Imports a model held in memory; <paramref name="sourcePath"/> names it in messages and gives the graph its name.</summary>
    public static Graph Load(byte[] bytes, string? sourcePath = null, string? name = null, CustomOperators? customOperators = null)
    {
        name ??= sourcePath is null ? "model" : Path.GetFileNameWithoutExtension(sourcePath);
        try
        {
            var model = TfliteModel.Read(bytes);
            return new Importer(model, sourcePath, name, customOperators ?? CustomOperators.None).Import();
        }
        catch (CompilerException e) when (sourcePath is not null)
        {
            throw e.WithFile(sourcePath);
        }
    }

    /// <summary>
    /// What can be read of a model whose import may fail, operator by operator (for <c>microtvm inspect</c>): each
    /// operator's name, its operands as stored, and the error that rejects it, if any. Graph-level checks (shape
    /// inference, graph inputs and outputs) are not made.
    /// </summary>
    public static IReadOnlyList<OperatorSurvey> Survey(TfliteModel model, string? sourcePath)
    {
        var importer = new Importer(model, sourcePath, "model", CustomOperators.None);
        var subGraph = model.SubGraphs[0];
        TfliteTensor? Raw(int id) => id >= 0 && id < subGraph.Tensors.Count ? subGraph.Tensors[id] : null;
        var result = new List<OperatorSurvey>(subGraph.Operators.Count);
        for (int i = 0; i < subGraph.Operators.Count; i++)
        {
            var op = subGraph.Operators[i];
            var operatorImporter = new OperandReader(importer, i, op);
            CompilerException? error = null;
            try
            {
                operatorImporter.Import();
            }
            catch (CompilerException e)
            {
                error = sourcePath is null ? e : e.WithFile(sourcePath);
            }

            result.Add(new OperatorSurvey(i, operatorImporter.KindName, op.Inputs.Select(Raw).ToArray(), op.Outputs.Select(Raw).ToArray(), error));
        }

        return result;
    }

    internal sealed class Importer
    {
        private readonly TfliteModel _model;
        private readonly TfliteSubGraph _subGraph;
        private readonly string? _path;
        private readonly string _name;
        private readonly Dictionary<int, Tensor> _tensors = new();
        private readonly Dictionary<uint, byte[]> _bufferData = new();

        public Importer(TfliteModel model, string? path, string name, CustomOperators customOperators)
        {
            CustomOperators = customOperators;
            _model = model;
            _subGraph = model.SubGraphs[0];
            _path = path;
            _name = name;
        }

        public Graph Import()
        {
            var nodes = new List<Node>(_subGraph.Operators.Count);
            var errors = new List<CompilerException>();
            for (int i = 0; i < _subGraph.Operators.Count; i++)
            {
                try
                {
                    nodes.Add(new OperandReader(this, i, _subGraph.Operators[i]).Import());
                }
                catch (CompilerException e) when (e.OperatorIndex is not null)
                {
                    errors.Add(e); // each operator's problem is its own: report them all at once
                }
            }

            if (errors.Count > 0) throw CompilerException.Combine(errors);

            var inputs = _subGraph.Inputs.Select(id => GraphTensor(id, "input")).ToArray();
            var outputs = _subGraph.Outputs.Select(id => GraphTensor(id, "output")).ToArray();
            foreach (var input in inputs)
                if (input.IsConstant)
                    throw new CompilerException(ErrorCodes.InvalidGraph, $"graph input {input} has constant data") { File = _path };
            if (inputs.Distinct().Count() != inputs.Length || outputs.Distinct().Count() != outputs.Length)
                throw new CompilerException(ErrorCodes.InvalidGraph, "a tensor is listed twice among the graph inputs or outputs") { File = _path };

            var tensors = _tensors.Values.OrderBy(t => t.Id).ToArray();
            var graph = new Graph(_name, tensors, nodes, inputs, outputs) { SourcePath = _path };
            graph.Validate();
            ShapeInference.Run(graph);
            return graph;
        }

        private Tensor GraphTensor(int id, string role)
        {
            if (id < 0 || id >= _subGraph.Tensors.Count)
                throw new CompilerException(ErrorCodes.InvalidGraph,
                    $"graph {role} refers to tensor {id}, but the subgraph has {_subGraph.Tensors.Count} tensors") { File = _path };
            return ConvertTensor(id, null);
        }

        /// <summary>The IR tensor for TFLite tensor <paramref name="id"/> (converted once); errors name <paramref name="op"/>.</summary>
        public Tensor ConvertTensor(int id, OperandReader? op)
        {
            if (_tensors.TryGetValue(id, out var existing)) return existing;
            var raw = _subGraph.Tensors[id];
            CompilerException Fail(string code, string message) => op is not null
                ? op.Error(code, $"tensor {id} '{raw.Name}' {message}")
                : new CompilerException(code, $"tensor {id} '{raw.Name}' {message}") { File = _path };

            var type = ConvertType(raw.Type)
                ?? throw Fail(ErrorCodes.UnsupportedElementType,
                    $"has element type {TfliteSchema.TensorTypeName(raw.Type)}; supported element types are float32, int8, uint8, int16, int32, int64, bool"
                    + (op is null ? "" : $", and {op.KindName} supports {op.Kind!.TypesText}"));
            if (raw.IsSparse) throw Fail(ErrorCodes.UnsupportedFeature, "is sparse; sparse tensors are not supported");

            var shape = raw.Shape;
            if (shape.Length > ShapeInference.MaxRank)
                throw Fail(ErrorCodes.InvalidShape, $"has rank {shape.Length}; at most {ShapeInference.MaxRank} is supported");
            long count = 1;
            foreach (int dim in shape)
            {
                if (dim < 0) throw Fail(ErrorCodes.InvalidShape, $"has a dynamic or negative dimension in its shape [{string.Join(",", shape)}]; only static shapes are supported");
                if (dim == 0) throw Fail(ErrorCodes.InvalidShape, $"has a zero-sized dimension in its shape [{string.Join(",", shape)}]; empty tensors are not supported");
                count = checked(count * dim);
                if (count * type.SizeInBytes() > int.MaxValue)
                    throw Fail(ErrorCodes.InvalidShape, $"with shape [{string.Join(",", shape)}] overflows (more than {int.MaxValue} bytes)");
            }

            var quantization = ConvertQuantization(raw, shape, Fail);
            // A variable tensor's buffer is not its value: TFLM starts it from its reset value (see Tensor.InitialByte).
            var data = raw.IsVariable ? null : ConstantData(raw, count * type.SizeInBytes(), Fail);
            var tensor = new Tensor(id, raw.Name, type, (int[])shape.Clone(), quantization, data) { IsVariable = raw.IsVariable };
            _tensors[id] = tensor;
            return tensor;
        }

        public TfliteTensor RawTensor(int id) => _subGraph.Tensors[id];

        /// <summary>The custom operators that have an implementation.</summary>
        public CustomOperators CustomOperators { get; }

        public int TensorCount => _subGraph.Tensors.Count;

        public TfliteOperatorCode? OperatorCode(uint index) => index < _model.OperatorCodes.Count ? _model.OperatorCodes[(int)index] : null;

        public int OperatorCodeCount => _model.OperatorCodes.Count;

        public string? Path => _path;

        /// <summary>The bytes of a tensor's buffer (empty when it has none); copied once per buffer.</summary>
        public byte[] BufferBytes(TfliteTensor raw, Func<string, string, CompilerException> fail)
        {
            if (raw.Buffer >= _model.Buffers.Count)
                throw fail(ErrorCodes.InvalidConstantData, $"refers to buffer {raw.Buffer}, but the model has {_model.Buffers.Count} buffers");
            if (_bufferData.TryGetValue(raw.Buffer, out var cached)) return cached;
            var location = _model.Buffers[(int)raw.Buffer];
            var bytes = location.Length == 0 ? Array.Empty<byte>() : _model.File.Copy(location.Start, location.Length, $"buffer {raw.Buffer}");
            _bufferData[raw.Buffer] = bytes;
            return bytes;
        }

        private byte[]? ConstantData(TfliteTensor raw, long byteSize, Func<string, string, CompilerException> fail)
        {
            var bytes = BufferBytes(raw, fail);
            if (bytes.Length == 0) return null;
            if (bytes.Length != byteSize)
                throw fail(ErrorCodes.InvalidConstantData, $"has {bytes.Length} bytes of constant data, but its shape and type need {byteSize}");
            return bytes;
        }

        private static QuantizationParameters? ConvertQuantization(TfliteTensor raw, int[] shape, Func<string, string, CompilerException> fail)
        {
            var q = raw.Quantization;
            if (q is null) return null;
            if (q.HasCustomDetails) throw fail(ErrorCodes.UnsupportedFeature, "uses custom quantization, which is not supported");
            if (q.Scales.Length == 0) return null;
            foreach (float scale in q.Scales)
                if (!float.IsFinite(scale) || scale < 0)
                    throw fail(ErrorCodes.InvalidQuantization, $"has an invalid quantization scale {scale}");
            var zeroPoints = q.ZeroPoints.Length == 0 ? new long[q.Scales.Length] : q.ZeroPoints;
            if (zeroPoints.Length != 1 && zeroPoints.Length != q.Scales.Length)
                throw fail(ErrorCodes.InvalidQuantization, $"has {q.Scales.Length} scales but {zeroPoints.Length} zero points");
            // quantized_dimension is not checked here: TFLite Micro reads per-channel scales along each operator's
            // fixed channel dimension and ignores the field (converters copy a depthwise filter's 3 onto its rank-1
            // bias). OperatorSupport checks the scale count where per-channel parameters are used.
            foreach (long zeroPoint in zeroPoints)
                if (zeroPoint is < int.MinValue or > int.MaxValue)
                    throw fail(ErrorCodes.InvalidQuantization, $"has zero point {zeroPoint} outside the 32-bit range");
            return new QuantizationParameters(q.Scales, zeroPoints, q.Scales.Length > 1 ? q.QuantizedDimension : 0);
        }

        private static ElementType? ConvertType(sbyte type) => type switch
        {
            0 => ElementType.Float32,
            2 => ElementType.Int32,
            3 => ElementType.UInt8,
            4 => ElementType.Int64,
            6 => ElementType.Bool,
            7 => ElementType.Int16,
            9 => ElementType.Int8,
            _ => null,
        };
    }
}

/// <summary>One operator as <see cref="TfliteImporter.Survey"/> read it: operands as stored (null where absent or dangling), and the import error, if any.</summary>
public sealed record OperatorSurvey(int Index, string Name, IReadOnlyList<TfliteTensor?> Inputs, IReadOnlyList<TfliteTensor?> Outputs, CompilerException? Error);
