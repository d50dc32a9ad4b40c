using System.Buffers.Binary;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.FlatBuffers;
using MicroTvm.Compiler.Ir;
using OptionType = MicroTvm.Compiler.Tflite.TfliteSchema.Options;

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
    /// <summary>TFLite BuiltinOperator value of each supported operator.</summary>
    private static readonly Dictionary<int, OpKind> BuiltinCodes = new()
    {
        [0] = OpKind.Add, [1] = OpKind.AveragePool2D, [2] = OpKind.Concatenation, [3] = OpKind.Conv2D,
        [4] = OpKind.DepthwiseConv2D, [6] = OpKind.Dequantize, [9] = OpKind.FullyConnected, [14] = OpKind.Logistic,
        [17] = OpKind.MaxPool2D, [18] = OpKind.Mul, [19] = OpKind.Relu, [21] = OpKind.Relu6, [22] = OpKind.Reshape,
        [25] = OpKind.Softmax, [28] = OpKind.Tanh, [34] = OpKind.Pad, [39] = OpKind.Transpose, [40] = OpKind.Mean,
        [41] = OpKind.Sub, [43] = OpKind.Squeeze, [45] = OpKind.StridedSlice, [55] = OpKind.Maximum,
        [57] = OpKind.Minimum, [60] = OpKind.PadV2, [67] = OpKind.TransposeConv, [70] = OpKind.ExpandDims,
        [98] = OpKind.LeakyRelu, [114] = OpKind.Quantize, [117] = OpKind.HardSwish,
    };

    /// <summary>Every operator the importer accepts, by TFLite name.</summary>
    public static IReadOnlyList<string> SupportedOperatorNames { get; } =
        BuiltinCodes.Values.Select(k => k.TfliteName()).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Reads and imports the model file at <paramref name="path"/>.</summary>
    public static Graph Load(string path)
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

        return Load(bytes, path);
    }

    /// <summary>Imports a model held in memory; <paramref name="sourcePath"/> names it in messages and gives the graph its name.</summary>
    public static Graph Load(byte[] bytes, string? sourcePath = null, string? name = null)
    {
        name ??= sourcePath is null ? "model" : Path.GetFileNameWithoutExtension(sourcePath);
        try
        {
            var model = TfliteModel.Read(bytes);
            return new Importer(model, sourcePath, name).Import();
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
        var importer = new Importer(model, sourcePath, "model");
        var subGraph = model.SubGraphs[0];
        TfliteTensor? Raw(int id) => id >= 0 && id < subGraph.Tensors.Count ? subGraph.Tensors[id] : null;
        var result = new List<OperatorSurvey>(subGraph.Operators.Count);
        for (int i = 0; i < subGraph.Operators.Count; i++)
        {
            var op = subGraph.Operators[i];
            var operatorImporter = new Importer.OperatorImporter(importer, i, op);
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

    private sealed class Importer
    {
        private readonly TfliteModel _model;
        private readonly TfliteSubGraph _subGraph;
        private readonly string? _path;
        private readonly string _name;
        private readonly Dictionary<int, Tensor> _tensors = new();
        private readonly Dictionary<uint, byte[]> _bufferData = new();

        public Importer(TfliteModel model, string? path, string name)
        {
            _model = model;
            _subGraph = model.SubGraphs[0];
            _path = path;
            _name = name;
        }

        public Graph Import()
        {
            var nodes = new List<Node>(_subGraph.Operators.Count);
            for (int i = 0; i < _subGraph.Operators.Count; i++)
                nodes.Add(new OperatorImporter(this, i, _subGraph.Operators[i]).Import());

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
        public Tensor ConvertTensor(int id, OperatorImporter? op)
        {
            if (_tensors.TryGetValue(id, out var existing)) return existing;
            var raw = _subGraph.Tensors[id];
            CompilerException Fail(string code, string message) => op is not null
                ? op.Error(code, $"tensor {id} '{raw.Name}' {message}")
                : new CompilerException(code, $"tensor {id} '{raw.Name}' {message}") { File = _path };

            var type = ConvertType(raw.Type)
                ?? throw Fail(ErrorCodes.UnsupportedElementType,
                    $"has element type {TfliteSchema.TensorTypeName(raw.Type)}; supported element types are float32, int8, uint8, int16, int32, int64, bool"
                    + (op is null ? "" : $", and {op.KindName} supports {OperatorSupport.Describe(op.Kind!.Value)}"));
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

        /// <summary>Imports one operator.</summary>
        public sealed class OperatorImporter
        {
            private readonly Importer _importer;
            private readonly int _index;
            private readonly TfliteOperator _op;

            public OperatorImporter(Importer importer, int index, TfliteOperator op)
            {
                _importer = importer;
                _index = index;
                _op = op;
            }

            public OpKind? Kind { get; private set; }

            public string KindName { get; private set; } = "";

            public CompilerException Error(string code, string message) => new(code, $"operator {_index} ({KindName}): {message}")
            {
                File = _importer.Path,
                OperatorIndex = _index,
                OperatorName = KindName,
            };

            public Node Import()
            {
                var code = _importer.OperatorCode(_op.OpcodeIndex);
                if (code is null)
                {
                    KindName = "?";
                    throw Error(ErrorCodes.MalformedModel, $"refers to operator code {_op.OpcodeIndex}, but the model has {_importer.OperatorCodeCount}");
                }

                KindName = code.Name;
                if (code.IsCustom || !BuiltinCodes.TryGetValue(code.BuiltinCode, out var kind))
                    throw Error(ErrorCodes.UnsupportedOperator,
                        $"{code.Name} is not supported. Supported operators: {string.Join(", ", SupportedOperatorNames)}");
                Kind = kind;
                KindName = kind.TfliteName();

                if (_op.Outputs.Length != 1)
                    throw Error(ErrorCodes.InvalidOperator, $"has {_op.Outputs.Length} outputs, expected 1");
                var output = Tensor(_op.Outputs[0], "output") ?? throw Error(ErrorCodes.InvalidGraph, "has no output tensor (-1)");

                var (attributes, inputs) = ImportOperands(kind);
                var node = new Node(_index, kind, attributes, inputs, new[] { output });
                OperatorSupport.Check(node, _importer.Path);
                return node;
            }

            private (OpAttributes, Tensor?[]) ImportOperands(OpKind kind)
            {
                switch (kind)
                {
                    case OpKind.Add:
                    {
                        Inputs(2, 2);
                        var o = Options(OptionType.Add);
                        return (new ElementwiseAttributes(Activation(o?.Int8(0) ?? 0), o?.Bool(1, true) ?? true), Data(0, 1));
                    }
                    case OpKind.Sub:
                    {
                        Inputs(2, 2);
                        var o = Options(OptionType.Sub);
                        return (new ElementwiseAttributes(Activation(o?.Int8(0) ?? 0), o?.Bool(1, true) ?? true), Data(0, 1));
                    }
                    case OpKind.Mul:
                    {
                        Inputs(2, 2);
                        var o = Options(OptionType.Mul);
                        return (new ElementwiseAttributes(Activation(o?.Int8(0) ?? 0)), Data(0, 1));
                    }
                    case OpKind.Maximum or OpKind.Minimum:
                        Inputs(2, 2);
                        return (new ElementwiseAttributes(FusedActivation.None), Data(0, 1));

                    case OpKind.Conv2D:
                    {
                        Inputs(2, 3);
                        var o = Options(OptionType.Conv2D);
                        return (new Conv2DAttributes(
                            Padding(o?.Int8(0) ?? 0), o?.Int32(2) ?? 0, o?.Int32(1) ?? 0, o?.Int32(5, 1) ?? 1, o?.Int32(4, 1) ?? 1,
                            Activation(o?.Int8(3) ?? 0)), Data(0, 1, 2));
                    }
                    case OpKind.DepthwiseConv2D:
                    {
                        Inputs(2, 3);
                        var o = Options(OptionType.DepthwiseConv2D);
                        var inputs = Data(0, 1, 2);
                        // depth_multiplier is redundant (TFLite ignores it in newer versions): the shapes decide.
                        int multiplier = o?.Int32(3) ?? 0;
                        if (inputs[0] is { Rank: 4 } x && inputs[1] is { Rank: 4 } f && x.Shape[3] > 0 && f.Shape[3] % x.Shape[3] == 0)
                            multiplier = f.Shape[3] / x.Shape[3];
                        return (new DepthwiseConv2DAttributes(
                            Padding(o?.Int8(0) ?? 0), o?.Int32(2) ?? 0, o?.Int32(1) ?? 0, o?.Int32(6, 1) ?? 1, o?.Int32(5, 1) ?? 1,
                            multiplier, Activation(o?.Int8(4) ?? 0)), inputs);
                    }
                    case OpKind.TransposeConv:
                    {
                        // TFLite order: [output_shape, weights, input, bias?]; the IR's: [input, weights, bias?].
                        Inputs(3, 4);
                        var o = Options(OptionType.TransposeConv);
                        // A computed output_shape (e.g. a model input) is accepted as TFLite Micro accepts it: it cannot
                        // resize tensors, so the output keeps the shape declared in the file.
                        var outputShape = IsConstant(0) ? ConstantInts(0, "output shape") : (int[])Tensor(_op.Outputs[0], "output")!.Shape.Clone();
                        return (new TransposeConvAttributes(
                            Padding(o?.Int8(0) ?? 0), o?.Int32(2) ?? 0, o?.Int32(1) ?? 0, outputShape, Activation(o?.Int8(3) ?? 0)),
                            new[] { Required(2, "input"), Required(1, "weights"), Optional(3) });
                    }
                    case OpKind.FullyConnected:
                    {
                        Inputs(2, 3);
                        var o = Options(OptionType.FullyConnected);
                        if ((o?.Int8(1) ?? 0) != 0)
                            throw Error(ErrorCodes.UnsupportedFeature, "uses shuffled weights (weights_format SHUFFLED4x16INT8), which are not supported");
                        return (new FullyConnectedAttributes(Activation(o?.Int8(0) ?? 0), o?.Bool(2) ?? false), Data(0, 1, 2));
                    }
                    case OpKind.AveragePool2D or OpKind.MaxPool2D:
                    {
                        Inputs(1, 1);
                        var o = Options(OptionType.Pool2D);
                        return (new Pool2DAttributes(
                            Padding(o?.Int8(0) ?? 0), o?.Int32(2) ?? 0, o?.Int32(1) ?? 0, o?.Int32(4) ?? 0, o?.Int32(3) ?? 0,
                            Activation(o?.Int8(5) ?? 0)), Data(0));
                    }
                    case OpKind.Reshape:
                        Inputs(1, 2);
                        return (new ReshapeAttributes(ReshapeTarget()), Data(0));
                    case OpKind.Squeeze:
                    {
                        Inputs(1, 1);
                        var o = Options(OptionType.Squeeze);
                        var dims = o?.Vector(0, 4, "squeeze_dims")?.ToInt32Array() ?? Array.Empty<int>();
                        return (new ReshapeAttributes(SqueezedShape(Required(0, "input").Shape, dims)), Data(0));
                    }
                    case OpKind.ExpandDims:
                    {
                        Inputs(2, 2);
                        var axis = ConstantInts(1, "axis");
                        if (axis.Length != 1) throw Error(ErrorCodes.InvalidOperator, $"the axis operand has {axis.Length} values, expected 1");
                        var shape = Required(0, "input").Shape;
                        int a = axis[0] < 0 ? axis[0] + shape.Length + 1 : axis[0];
                        if (a < 0 || a > shape.Length) throw Error(ErrorCodes.InvalidOperator, $"axis {axis[0]} is outside [-{shape.Length + 1}, {shape.Length}]");
                        return (new ReshapeAttributes(shape.Take(a).Append(1).Concat(shape.Skip(a)).ToArray()), Data(0));
                    }
                    case OpKind.Softmax:
                    {
                        Inputs(1, 1);
                        var o = Options(OptionType.Softmax);
                        return (new SoftmaxAttributes(o?.Float32(0) ?? 0f), Data(0));
                    }
                    case OpKind.LeakyRelu:
                    {
                        Inputs(1, 1);
                        var o = Options(OptionType.LeakyRelu);
                        return (new LeakyReluAttributes(o?.Float32(0) ?? 0f), Data(0));
                    }
                    case OpKind.Logistic or OpKind.Tanh or OpKind.Relu or OpKind.Relu6 or OpKind.HardSwish or OpKind.Quantize or OpKind.Dequantize:
                        Inputs(1, 1);
                        return (NoAttributes.Instance, Data(0));

                    case OpKind.Concatenation:
                    {
                        if (_op.Inputs.Length < 1) throw Error(ErrorCodes.InvalidOperator, "has no inputs");
                        var o = Options(OptionType.Concatenation);
                        var inputs = Enumerable.Range(0, _op.Inputs.Length).Select(i => (Tensor?)Required(i, $"input {i}")).ToArray();
                        int axis = o?.Int32(0) ?? 0;
                        int rank = inputs[0]!.Rank;
                        if (axis < -rank || axis >= rank) throw Error(ErrorCodes.InvalidOperator, $"axis {axis} is outside the input rank {rank}");
                        return (new ConcatenationAttributes(axis < 0 ? axis + rank : axis, Activation(o?.Int8(1) ?? 0)), inputs);
                    }
                    case OpKind.Pad or OpKind.PadV2:
                    {
                        if (kind == OpKind.Pad) Inputs(2, 2); else Inputs(2, 3);
                        var input = Required(0, "input");
                        var paddings = ConstantInts(1, "paddings");
                        if (paddings.Length != 2 * input.Rank)
                            throw Error(ErrorCodes.InvalidOperator, $"paddings have {paddings.Length} values; the input {input} needs {input.Rank}x2");
                        var before = Enumerable.Range(0, input.Rank).Select(d => paddings[2 * d]).ToArray();
                        var after = Enumerable.Range(0, input.Rank).Select(d => paddings[2 * d + 1]).ToArray();
                        var operands = kind == OpKind.Pad ? new[] { input } : new[] { input, Optional(2) };
                        return (new PadAttributes(before, after), operands);
                    }
                    case OpKind.Mean:
                    {
                        Inputs(2, 2);
                        var o = Options(OptionType.Reducer);
                        int rank = Required(0, "input").Rank;
                        var axes = new SortedSet<int>();
                        foreach (int axis in ConstantInts(1, "axes"))
                        {
                            if (axis < -rank || axis >= rank) throw Error(ErrorCodes.InvalidOperator, $"axis {axis} is outside the input rank {rank}");
                            axes.Add(axis < 0 ? axis + rank : axis);
                        }

                        return (new MeanAttributes(axes.ToArray(), o?.Bool(0) ?? false), Data(0));
                    }
                    case OpKind.StridedSlice:
                    {
                        Inputs(4, 4);
                        var o = Options(OptionType.StridedSlice);
                        return (new StridedSliceAttributes(
                            ConstantInts(1, "begin"), ConstantInts(2, "end"), ConstantInts(3, "strides"),
                            o?.Int32(0) ?? 0, o?.Int32(1) ?? 0, o?.Int32(2) ?? 0, o?.Int32(3) ?? 0, o?.Int32(4) ?? 0,
                            o?.Bool(5) ?? false), Data(0));
                    }
                    case OpKind.Transpose:
                        Inputs(2, 2);
                        return (new TransposeAttributes(ConstantInts(1, "permutation")), Data(0));

                    default:
                        throw Error(ErrorCodes.UnsupportedOperator, "is not supported");
                }
            }

            /// <summary>RESHAPE's target: the shape operand when it is a constant vector, else new_shape, else the declared output; one -1 is resolved.</summary>
            private int[] ReshapeTarget()
            {
                int[]? shape = null;
                if (_op.Inputs.Length > 1 && _op.Inputs[1] >= 0)
                {
                    var raw = RawTensor(1);
                    if (raw.Shape.Length == 1 && _importer.BufferBytes(raw, (c, m) => Error(c, $"shape operand {m}")).Length > 0)
                        shape = ConstantInts(1, "shape");
                }

                shape ??= Options(OptionType.Reshape)?.Vector(0, 4, "new_shape")?.ToInt32Array();
                var output = Tensor(_op.Outputs[0], "output")!;
                if (shape is null) return (int[])output.Shape.Clone();
                shape = (int[])shape.Clone();
                int unknown = Array.IndexOf(shape, -1);
                if (unknown >= 0)
                {
                    long known = 1;
                    for (int d = 0; d < shape.Length; d++)
                        if (d != unknown)
                        {
                            if (shape[d] <= 0) throw Error(ErrorCodes.InvalidShape, $"new shape [{string.Join(",", shape)}] is invalid");
                            known = Math.Min(known * shape[d], (long)int.MaxValue + 1);
                        }

                    long count = Required(0, "input").ElementCount;
                    if (count % known != 0)
                        throw Error(ErrorCodes.InvalidShape, $"cannot reshape {count} elements to [{string.Join(",", shape)}]");
                    shape[unknown] = (int)(count / known);
                }

                return shape;
            }

            private int[] SqueezedShape(int[] shape, int[] dims)
            {
                if (dims.Length == 0) return shape.Where(d => d != 1).ToArray();
                var squeezed = new bool[shape.Length];
                foreach (int dim in dims)
                {
                    int d = dim < 0 ? dim + shape.Length : dim;
                    if (d < 0 || d >= shape.Length || shape[d] != 1)
                        throw Error(ErrorCodes.InvalidOperator, $"cannot squeeze dimension {dim} of shape [{string.Join(",", shape)}]");
                    squeezed[d] = true;
                }

                return shape.Where((_, d) => !squeezed[d]).ToArray();
            }

            private void Inputs(int min, int max)
            {
                if (_op.Inputs.Length < min || _op.Inputs.Length > max)
                    throw Error(ErrorCodes.InvalidOperator, $"has {_op.Inputs.Length} inputs, expected {(min == max ? $"{min}" : $"{min} to {max}")}");
            }

            /// <summary>The operands at <paramref name="positions"/> as node inputs (null where absent or -1).</summary>
            private Tensor?[] Data(params int[] positions)
            {
                var result = new Tensor?[positions.Length];
                for (int i = 0; i < positions.Length; i++)
                    result[i] = positions[i] == 0 || positions[i] == 1 ? Required(positions[i], $"input {positions[i]}") : Optional(positions[i]);
                return result;
            }

            private Tensor Required(int position, string role) =>
                (position < _op.Inputs.Length ? Tensor(_op.Inputs[position], $"input {position}") : null)
                ?? throw Error(ErrorCodes.InvalidOperator, $"the {role} operand is missing");

            /// <summary>
            /// An optional operand: absent when missing, -1, or (as some converters write it) a tensor with no
            /// elements and no data.
            /// </summary>
            private Tensor? Optional(int position)
            {
                if (position >= _op.Inputs.Length || _op.Inputs[position] == -1) return null;
                var raw = RawTensor(position);
                if (raw.Shape.Contains(0) && _importer.BufferBytes(raw, (c, m) => Error(c, $"input {position} {m}")).Length == 0) return null;
                return Tensor(_op.Inputs[position], $"input {position}");
            }

            private Tensor? Tensor(int id, string role)
            {
                if (id == -1) return null;
                if (id < 0 || id >= _importer.TensorCount)
                    throw Error(ErrorCodes.InvalidGraph, $"{role} refers to tensor {id}, but the subgraph has {_importer.TensorCount} tensors (dangling reference)");
                return _importer.ConvertTensor(id, this);
            }

            private TfliteTensor RawTensor(int position)
            {
                int id = _op.Inputs[position];
                if (id < 0 || id >= _importer.TensorCount)
                    throw Error(ErrorCodes.InvalidGraph, $"input {position} refers to tensor {id}, but the subgraph has {_importer.TensorCount} tensors (dangling reference)");
                return _importer.RawTensor(id);
            }

            private bool IsConstant(int position) =>
                position < _op.Inputs.Length && _op.Inputs[position] != -1
                && _importer.BufferBytes(RawTensor(position), (c, m) => Error(c, $"input {position} {m}")).Length > 0;

            /// <summary>A constant int32/int64 operand that describes the operation (it does not become a node input).</summary>
            private int[] ConstantInts(int position, string role)
            {
                if (position >= _op.Inputs.Length || _op.Inputs[position] == -1)
                    throw Error(ErrorCodes.InvalidOperator, $"the {role} operand is missing");
                var raw = RawTensor(position);
                CompilerException Fail(string code, string message) => Error(code, $"the {role} operand (tensor {raw.Index}) {message}");
                var bytes = _importer.BufferBytes(raw, Fail);
                if (bytes.Length == 0)
                    throw Fail(ErrorCodes.InvalidOperator, "must be a constant; computed values are not supported");
                int size = raw.Type switch { 2 => 4, 4 => 8, _ => 0 };
                if (size == 0)
                    throw Fail(ErrorCodes.UnsupportedElementType, $"has element type {TfliteSchema.TensorTypeName(raw.Type)}; expected int32 or int64");
                if (bytes.Length % size != 0)
                    throw Fail(ErrorCodes.InvalidConstantData, $"has {bytes.Length} bytes, not a whole number of {size}-byte values");
                long expected = 1;
                foreach (int dim in raw.Shape) expected = dim < 0 ? -1 : Math.Min(expected * dim, int.MaxValue);
                if (expected != bytes.Length / size)
                    throw Fail(ErrorCodes.InvalidConstantData, $"has {bytes.Length / size} values, but its shape [{string.Join(",", raw.Shape)}] says {expected}");
                var values = new int[bytes.Length / size];
                for (int i = 0; i < values.Length; i++)
                {
                    long value = size == 4
                        ? BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i))
                        : BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8 * i));
                    if (value is < int.MinValue or > int.MaxValue)
                        throw Fail(ErrorCodes.InvalidOperator, $"value {value} does not fit in 32 bits");
                    values[i] = (int)value;
                }

                return values;
            }

            /// <summary>The builtin options table when it has the expected union type; null when absent (defaults apply).</summary>
            private FlatTable? Options(byte expected)
            {
                if (_op.OptionsType == OptionType.None) return null;
                if (_op.OptionsType != expected)
                    throw Error(ErrorCodes.InvalidOperator, $"has builtin options of union type {_op.OptionsType}, expected {expected}");
                return _op.Options;
            }

            private FusedActivation Activation(sbyte value) => value switch
            {
                0 => FusedActivation.None,
                1 => FusedActivation.Relu,
                2 => FusedActivation.ReluN1To1,
                3 => FusedActivation.Relu6,
                4 => FusedActivation.Tanh,
                5 => FusedActivation.SignBit,
                _ => throw Error(ErrorCodes.InvalidOperator, $"has unknown fused activation {value}"),
            };

            private Ir.Padding Padding(sbyte value) => value switch
            {
                0 => Ir.Padding.Same,
                1 => Ir.Padding.Valid,
                _ => throw Error(ErrorCodes.InvalidOperator, $"has unknown padding {value}"),
            };
        }
    }
}

/// <summary>One operator as <see cref="TfliteImporter.Survey"/> read it: operands as stored (null where absent or dangling), and the import error, if any.</summary>
public sealed record OperatorSurvey(int Index, string Name, IReadOnlyList<TfliteTensor?> Inputs, IReadOnlyList<TfliteTensor?> Outputs, CompilerException? Error);
