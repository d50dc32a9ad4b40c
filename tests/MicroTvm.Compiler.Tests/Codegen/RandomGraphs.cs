using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Tests.Reference;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>Seeded random single-operator (and small chain) graphs with random inputs, for differential tests.</summary>
internal sealed class RandomGraphs
{
    private readonly Random _random;

    public RandomGraphs(int seed) => _random = new Random(seed);

    /// <summary>A graph and its inputs; <paramref name="Expected"/>: outputs from an independent oracle (TFLM) to compare with instead of the reference evaluator's.</summary>
    /// <param name="Runs">How many times the case runs in a row on the same inputs (more than 1 for a model with
    /// state: each run starts from the state the previous one left).</param>
    public sealed record Case(string Description, Graph Graph, byte[][] Inputs, byte[][]? Expected = null, int Runs = 1);

    private int Next(int min, int maxInclusive) => _random.Next(min, maxInclusive + 1);

    private T Pick<T>(params T[] items) => items[_random.Next(items.Length)];

    private float Scale(double low, double high) => (float)(low * Math.Pow(high / low, _random.NextDouble()));

    private FusedActivation Activation() => Pick(FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6, FusedActivation.ReluN1To1);

    private QuantizationParameters ActivationQ(ElementType type, float scale) =>
        type == ElementType.Int16 ? Q(scale, 0) : type == ElementType.UInt8 ? Q(scale, Next(0, 255)) : Q(scale, Next(-128, 127));

    private byte[] RandomData(ElementType type, long count, double floatRange = 4.0) => type switch
    {
        ElementType.Float32 => Bytes(type, Enumerable.Range(0, (int)count).Select(_ => (_random.NextDouble() * 2 - 1) * floatRange)),
        ElementType.Int8 => Bytes(type, Enumerable.Range(0, (int)count).Select(_ => (double)Next(-128, 127))),
        ElementType.UInt8 => Bytes(type, Enumerable.Range(0, (int)count).Select(_ => (double)Next(0, 255))),
        ElementType.Int16 => Bytes(type, Enumerable.Range(0, (int)count).Select(_ => (double)Next(-32768, 32767))),
        ElementType.Int32 => Bytes(type, Enumerable.Range(0, (int)count).Select(_ => (double)Next(-100000, 100000))),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private Case Make(string description, GraphBuilder b, Tensor output)
    {
        var graph = b.Build(output);
        var inputs = graph.Inputs.Select(t => RandomData(t.Type, t.ElementCount)).ToArray();
        return new Case(description, graph, inputs);
    }

    /// <summary>Weights and bias of a layer with <paramref name="outputs"/> channels; quantized per channel or per tensor.</summary>
    private (Tensor Weights, Tensor? Bias) Parameters(GraphBuilder b, ElementType inputType, int[] shape, int outputs, int taps, int quantizedDimension, OpKind? kind = null)
    {
        long count = shape.Aggregate(1L, (x, y) => x * y);
        if (inputType == ElementType.Float32)
        {
            var w = b.Tensor(ElementType.Float32, shape, null, RandomData(ElementType.Float32, count, 1.0));
            var bias = _random.Next(4) == 0 ? null : b.Tensor(ElementType.Float32, new[] { outputs }, null, RandomData(ElementType.Float32, outputs, 2.0));
            return (w, bias);
        }

        bool perChannel = _random.Next(3) != 0;
        var scales = Enumerable.Range(0, perChannel ? outputs : 1).Select(_ => Scale(0.002, 0.05)).ToArray();
        var q = perChannel ? new QuantizationParameters(scales, scales.Select(_ => 0L).ToArray(), quantizedDimension) : Q(scales[0]);
        var weights = b.Tensor(ElementType.Int8, shape, q, Bytes(ElementType.Int8, Enumerable.Range(0, (int)count).Select(_ => (double)Next(-127, 127))));
        Tensor? biasTensor = null;
        if (_random.Next(4) != 0)
        {
            var biasType = inputType == ElementType.Int16 ? Pick(MicroTvm.Compiler.Quantization.Int16x8Accumulation.BiasTypes(kind ?? OpKind.Conv2D)) : ElementType.Int32;
            int range = Math.Min(30000, 50 * taps);
            biasTensor = b.Tensor(biasType, new[] { outputs }, null, Bytes(biasType, Enumerable.Range(0, outputs).Select(_ => (double)Next(-range, range))));
        }

        return (weights, biasTensor);
    }

    private float OutputScale(float inputScale, Tensor weights, int taps, ElementType type) =>
        (float)(inputScale * (weights.Quantization?.Scale ?? 1) * (type == ElementType.Int16 ? 256 : 1) * 30 * Math.Sqrt(taps) / 128 * Scale(0.3, 3));

    public Case FullyConnected(ElementType type)
    {
        var b = new GraphBuilder();
        int batches = Next(1, 3), depth = Next(1, 40), units = Next(1, 20);
        float inScale = Scale(0.005, 0.1);
        var input = b.Input(type, new[] { batches, depth }, type == ElementType.Float32 ? null : ActivationQ(type, inScale));
        var (w, bias) = Parameters(b, type, new[] { units, depth }, units, depth, 0);
        var output = b.Tensor(type, new[] { batches, units }, type == ElementType.Float32 ? null : ActivationQ(type, OutputScale(inScale, w, depth, type)));
        var activation = Activation();
        b.Op(OpKind.FullyConnected, new FullyConnectedAttributes(activation, false), new[] { input, w, bias }, output);
        return Make($"FULLY_CONNECTED {type.DisplayName()} [{batches},{depth}]x[{units},{depth}] {activation}", b, output);
    }

    public Case Convolution(ElementType type, bool depthwise)
    {
        while (true)
        {
            int n = Next(1, 2), h = Next(1, 10), w = Next(1, 10), c = Next(1, 6);
            int fh = Next(1, 4), fw = Next(1, 4), sh = Next(1, 3), sw = Next(1, 3), dh = Next(1, 2), dw = Next(1, 2);
            int multiplier = depthwise ? Next(1, 3) : 1;
            int groups = depthwise || _random.Next(3) != 0 ? 1 : Next(2, 3);
            if (groups > 1) c = groups * Next(1, 3);
            int oc = depthwise ? c * multiplier : groups * Next(1, 4);
            var padding = Pick(Padding.Same, Padding.Valid);
            int oh = MicroTvm.Compiler.Reference.ConvGeometry.OutputSize(padding, h, fh, sh, dh);
            int ow = MicroTvm.Compiler.Reference.ConvGeometry.OutputSize(padding, w, fw, sw, dw);
            if (oh < 1 || ow < 1) continue;
            var b = new GraphBuilder();
            float inScale = Scale(0.005, 0.1);
            var input = b.Input(type, new[] { n, h, w, c }, type == ElementType.Float32 ? null : ActivationQ(type, inScale));
            int taps = fh * fw * (depthwise ? 1 : c / groups);
            var (filter, bias) = depthwise
                ? Parameters(b, type, new[] { 1, fh, fw, oc }, oc, taps, 3, OpKind.DepthwiseConv2D)
                : Parameters(b, type, new[] { oc, fh, fw, c / groups }, oc, taps, 0);
            var output = b.Tensor(type, new[] { n, oh, ow, oc }, type == ElementType.Float32 ? null : ActivationQ(type, OutputScale(inScale, filter, taps, type)));
            var activation = Activation();
            OpAttributes attributes = depthwise
                ? new DepthwiseConv2DAttributes(padding, sh, sw, dh, dw, multiplier, activation)
                : new Conv2DAttributes(padding, sh, sw, dh, dw, activation);
            b.Op(depthwise ? OpKind.DepthwiseConv2D : OpKind.Conv2D, attributes, new[] { input, filter, bias }, output);
            return Make($"{(depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D")} {type.DisplayName()} in [{n},{h},{w},{c}] filter {fh}x{fw} out {oc}{(groups > 1 ? $" groups {groups}" : "")} stride {sh}x{sw} dilation {dh}x{dw} {padding} {activation}", b, output);
        }
    }

    public Case Pool(ElementType type, bool average)
    {
        while (true)
        {
            int n = Next(1, 2), h = Next(1, 9), w = Next(1, 9), c = Next(1, 5);
            int fh = Next(1, 4), fw = Next(1, 4), sh = Next(1, 3), sw = Next(1, 3);
            var padding = Pick(Padding.Same, Padding.Valid);
            int oh = MicroTvm.Compiler.Reference.ConvGeometry.OutputSize(padding, h, fh, sh);
            int ow = MicroTvm.Compiler.Reference.ConvGeometry.OutputSize(padding, w, fw, sw);
            if (oh < 1 || ow < 1) continue;
            var b = new GraphBuilder();
            var q = type == ElementType.Float32 ? null : ActivationQ(type, Scale(0.01, 0.1));
            var input = b.Input(type, new[] { n, h, w, c }, q);
            var output = b.Tensor(type, new[] { n, oh, ow, c }, q);
            var activation = Activation();
            b.Op(average ? OpKind.AveragePool2D : OpKind.MaxPool2D, new Pool2DAttributes(padding, sh, sw, fh, fw, activation), new[] { input }, output);
            return Make($"{(average ? "AVERAGE" : "MAX")}_POOL_2D {type.DisplayName()} [{n},{h},{w},{c}] filter {fh}x{fw} stride {sh}x{sw} {padding} {activation}", b, output);
        }
    }

    private int[] RandomShape(int rank) => Enumerable.Range(0, rank).Select(_ => Next(1, 5)).ToArray();

    /// <summary>Second operand shape broadcasting against <paramref name="shape"/>: same, some dims 1, or lower rank.</summary>
    private int[] BroadcastShape(int[] shape)
    {
        int mode = _random.Next(4);
        if (mode == 0) return shape;
        if (mode == 1) return new[] { 1 };
        var other = shape.Select(d => _random.Next(2) == 0 ? 1 : d).ToArray();
        return mode == 2 ? other : other.Skip(Next(0, other.Length - 1)).ToArray();
    }

    public Case Binary(OpKind kind, ElementType type)
    {
        var b = new GraphBuilder();
        var shape = RandomShape(Next(1, 4));
        var other = BroadcastShape(shape);
        if (_random.Next(2) == 0) (shape, other) = (other, shape);
        var outShape = Enumerable.Range(0, Math.Max(shape.Length, other.Length)).Select(i =>
        {
            int r = Math.Max(shape.Length, other.Length);
            int a = i - (r - shape.Length) >= 0 ? shape[i - (r - shape.Length)] : 1;
            int c = i - (r - other.Length) >= 0 ? other[i - (r - other.Length)] : 1;
            return Math.Max(a, c);
        }).ToArray();
        bool sameQ = kind == OpKind.Maximum || kind == OpKind.Minimum;
        var qa = type is ElementType.Float32 or ElementType.Int32 ? null : ActivationQ(type, Scale(0.01, 0.1));
        var qb = sameQ || qa is null ? qa : ActivationQ(type, Scale(0.01, 0.1));
        var qo = sameQ || qa is null ? qa : ActivationQ(type, kind == OpKind.Mul ? Scale(0.0005, 0.01) : Scale(0.01, 0.2));
        var x = b.Input(type, shape, qa);
        var y = _random.Next(5) == 0 ? b.Tensor(type, other, qb, RandomData(type, other.Aggregate(1L, (p, d) => p * d))) : b.Input(type, other, qb);
        var output = b.Tensor(type, outShape, qo);
        var activation = sameQ ? FusedActivation.None : Activation();
        b.Op(kind, new ElementwiseAttributes(activation), new[] { x, y }, output);
        return Make($"{kind.Name} {type.DisplayName()} [{string.Join(",", shape)}] [{string.Join(",", other)}]{(y.IsConstant ? " const" : "")} {activation}", b, output);
    }

    public Case Softmax(ElementType inputType, ElementType outputType)
    {
        var b = new GraphBuilder();
        var shape = inputType == ElementType.Int16 ? new[] { Next(4, 16), Next(1, 64) } : new[] { Next(1, 3), Next(1, 30) };
        float beta = Pick(1f, Scale(0.3, 3));
        var input = b.Input(inputType, shape, inputType switch
        {
            ElementType.Float32 => null,
            ElementType.Int16 => Q(Scale(0.0002, 0.005), 0),
            _ => ActivationQ(ElementType.Int8, Scale(0.01, 0.5)),
        });
        var q = outputType switch
        {
            ElementType.Int8 => Q(1f / 256, -128),
            ElementType.Int16 when inputType == ElementType.Int16 => Q(1f / 32768, 0),
            ElementType.Int16 => Q(1f / 65536, -32768),
            _ => null,
        };
        var output = b.Tensor(outputType, shape, q);
        b.Op(OpKind.Softmax, new SoftmaxAttributes(beta), new[] { input }, output);
        return Make($"SOFTMAX {inputType.DisplayName()}->{outputType.DisplayName()} [{shape[0]},{shape[1]}] beta {beta}", b, output);
    }

    public Case Quantize(ElementType from, ElementType to)
    {
        var b = new GraphBuilder();
        var shape = RandomShape(Next(1, 3));
        var input = b.Input(from, shape, from == ElementType.Float32 ? null : ActivationQ(from, Scale(0.01, 0.2)));
        var output = b.Tensor(to, shape, to == ElementType.Float32 ? null : ActivationQ(to, Scale(0.01, 0.2)));
        b.Op(to == ElementType.Float32 ? OpKind.Dequantize : OpKind.Quantize, NoAttributes.Instance, new[] { input }, output);
        return Make($"{(to == ElementType.Float32 ? "DEQUANTIZE" : "QUANTIZE")} {from.DisplayName()}->{to.DisplayName()} [{string.Join(",", shape)}]", b, output);
    }

    /// <summary>SVDF: int8 with int8 or int16 time weights and state (<paramref name="stateType"/>), or float32; random
    /// rank, memory (or <paramref name="memorySize"/>) and batch; the state as a variable tensor, run three times in a row.</summary>
    public Case Svdf(ElementType inputType, ElementType stateType, int? memorySize = null)
    {
        var b = new GraphBuilder();
        int batches = Next(1, 2), inputSize = Next(1, 24), rank = Next(1, 3), units = Next(1, 8), memory = memorySize ?? Next(1, 10);
        int filters = units * rank;
        var activation = Activation();
        Tensor input, feature, time, state, output;
        Tensor? bias = null;
        if (inputType == ElementType.Float32)
        {
            input = b.Input(ElementType.Float32, new[] { batches, inputSize });
            feature = b.Tensor(ElementType.Float32, new[] { filters, inputSize }, null, RandomData(ElementType.Float32, filters * inputSize, 1.0));
            time = b.Tensor(ElementType.Float32, new[] { filters, memory }, null, RandomData(ElementType.Float32, filters * memory, 1.0));
            if (_random.Next(4) != 0) bias = b.Tensor(ElementType.Float32, new[] { units }, null, RandomData(ElementType.Float32, units, 2.0));
            state = b.Variable(ElementType.Float32, new[] { batches, filters * memory });
            output = b.Tensor(ElementType.Float32, new[] { batches, units });
        }
        else
        {
            float inScale = Scale(0.005, 0.1), featureScale = Scale(0.002, 0.05), timeScale = Scale(0.002, 0.05) / (stateType == ElementType.Int16 ? 256 : 1);
            float stateScale = (float)(inScale * featureScale * 30 * Math.Sqrt(inputSize) / 128 * Scale(0.3, 3)) / (stateType == ElementType.Int16 ? 256 : 1);
            input = b.Input(ElementType.Int8, new[] { batches, inputSize }, ActivationQ(ElementType.Int8, inScale));
            feature = b.Tensor(ElementType.Int8, new[] { filters, inputSize }, Q(featureScale), RandomData(ElementType.Int8, filters * inputSize));
            time = b.Tensor(stateType, new[] { filters, memory }, Q(timeScale), RandomData(stateType, filters * memory));
            if (_random.Next(4) != 0)
                bias = b.Tensor(ElementType.Int32, new[] { units }, Q(stateScale * timeScale), Bytes(ElementType.Int32, Enumerable.Range(0, units).Select(_ => (double)Next(-3000, 3000))));
            state = b.Variable(stateType, new[] { batches, filters * memory }, ActivationQ(stateType, stateScale));
            float outScale = (float)(stateScale * timeScale * (stateType == ElementType.Int16 ? 65536 : 1) * 30 * Math.Sqrt(rank * memory) / 128 * Scale(0.3, 3));
            output = b.Tensor(ElementType.Int8, new[] { batches, units }, ActivationQ(ElementType.Int8, outScale));
        }

        b.Op(OpKind.Svdf, new SvdfAttributes(rank, activation), new Tensor?[] { input, feature, time, bias, state }, output);
        var made = Make($"SVDF {inputType.DisplayName()}/{stateType.DisplayName()} state [{batches},{inputSize}] {filters} filters rank {rank} memory {memory}{(bias is null ? " no bias" : "")} {activation}", b, output);
        return made with { Runs = 3 };
    }

    public Case Unary(OpKind kind, ElementType type)
    {
        var b = new GraphBuilder();
        var shape = RandomShape(Next(1, 3));
        QuantizationParameters? qi = null, qo = null;
        if (type == ElementType.Int8)
        {
            qi = ActivationQ(type, Scale(0.01, 0.2));
            qo = kind switch
            {
                _ when kind == OpKind.Logistic => Q(1f / 256, -128),
                _ when kind == OpKind.Tanh => Q(1f / 128, 0),
                _ when kind == OpKind.Relu6 => qi,
                _ => ActivationQ(type, Scale(0.01, 0.2)),
            };
        }
        else if (type == ElementType.Int16)
        {
            qi = kind == OpKind.Logistic || kind == OpKind.Tanh ? Q(Pick(1f / 4096, Scale(0.0001, 0.002)), 0) : Q(Scale(0.0005, 0.01), 0);
            qo = kind switch
            {
                _ when kind == OpKind.Logistic || kind == OpKind.Tanh => Q(1f / 32768, 0),
                _ when kind == OpKind.Relu6 => qi,
                _ => Q(Scale(0.0005, 0.01), 0),
            };
        }

        var x = b.Input(type, shape, qi);
        var y = b.Tensor(type, shape, qo);
        float alpha = Pick(0.1f, 0.2f, Scale(0.01, 0.9));
        OpAttributes attributes = kind == OpKind.LeakyRelu ? new LeakyReluAttributes(alpha) : NoAttributes.Instance;
        b.Op(kind, attributes, new[] { x }, y);
        var c = Make($"{kind.Name} {type.DisplayName()} [{string.Join(",", shape)}]", b, y);
        if (type == ElementType.Float32)
        {
            // Cover both tails of the float functions, not only [-4, 4].
            var inputs = c.Inputs.Select(bytes => Bytes(ElementType.Float32, Values(ElementType.Float32, bytes).Select(v => v * Pick(1.0, 5.0)))).ToArray();
            return c with { Inputs = inputs };
        }

        return c;
    }

    /// <summary>The same operator over every value of its input type (256 for int8, 65536 for int16).</summary>
    public Case UnaryExhaustive(OpKind kind, ElementType type)
    {
        var c = Unary(kind, type);
        var x = c.Graph.Inputs[0];
        var y = c.Graph.Outputs[0];
        int count = type == ElementType.Int8 ? 256 : 65536;
        var b = new GraphBuilder();
        var input = b.Input(type, new[] { count }, x.Quantization);
        var output = b.Tensor(type, new[] { count }, y.Quantization);
        b.Op(kind, c.Graph.Nodes[0].Attributes, new[] { input }, output);
        var graph = b.Build(output);
        var all = type == ElementType.Int8
            ? Enumerable.Range(0, 256).Select(i => (byte)i).ToArray()
            : Enumerable.Range(0, 65536).SelectMany(i => new[] { (byte)i, (byte)(i >> 8) }).ToArray();
        return new Case($"{kind.Name} {type.DisplayName()} every input value, scale {x.Quantization!.Scale:G6}", graph, new[] { all });
    }

    /// <summary>QUANTIZE float32 → int8 or int16 on the floats where the result changes: for every output value
    /// (int16: the extremes and 1,500 random ones), the float halfway between two steps (computed here in double,
    /// independently of the compiler) and the floats up to three ulps around it — where rounding the quotient in
    /// float (as TFLite does) and in double differ; also ±0, NaN, ±inf, subnormals, huge values and those near where
    /// |x / scale| reaches 2^31 (where adding the zero point wraps). Zero points include the extremes.</summary>
    public Case QuantizeAtBoundaries(ElementType to = ElementType.Int8)
    {
        var b = new GraphBuilder();
        var range = QuantizedRange.Of(to);
        float scale = Pick(Scale(1e-4, 10), Scale(0.01, 0.2), 1f / 256, 0.5f);
        int zeroPoint = to == ElementType.Int16 ? Pick(0, 0, 0, Next(-32768, 32767)) : Pick(-128, 127, 0, Next(-128, 127));
        var values = new List<float> { 0f, -0f, float.NaN, -float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue,
            float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f, 1e10f, -1e10f };
        var steps = to == ElementType.Int8
            ? Enumerable.Range(range.Min - 2, range.Max - range.Min + 5)
            : Enumerable.Range(range.Min - 2, 5).Concat(Enumerable.Range(range.Max - 2, 5)).Concat(Enumerable.Range(0, 1500).Select(_ => Next(range.Min, range.Max)));
        foreach (int j in steps)
            values.AddRange(Around((float)((j - zeroPoint - 0.5) * scale), 3));
        foreach (double edge in new[] { 2147483648.0, -2147483648.0, 2147483647.0 - zeroPoint, -2147483648.0 - zeroPoint, 16777216.0, -16777216.0 })
            values.AddRange(Around((float)(edge * scale), 2));
        var input = b.Input(ElementType.Float32, new[] { values.Count }, null);
        var output = b.Tensor(to, new[] { values.Count }, Q(scale, zeroPoint));
        b.Op(OpKind.Quantize, NoAttributes.Instance, new[] { input }, output);
        var bytes = values.SelectMany(v => BitConverter.GetBytes(v)).ToArray();
        return new Case($"QUANTIZE float32->{to.DisplayName()} at step boundaries, scale {scale:R}, zero point {zeroPoint}", b.Build(output), new[] { bytes });
    }

    private static IEnumerable<float> Around(float x, int ulps)
    {
        float down = x, up = x;
        yield return x;
        for (int i = 0; i < ulps; i++)
        {
            yield return down = MathF.BitDecrement(down);
            yield return up = MathF.BitIncrement(up);
        }
    }

    /// <summary>DEQUANTIZE of every value of an 8-bit type, or of int16 (every value).</summary>
    public Case DequantizeEvery(ElementType type)
    {
        var b = new GraphBuilder();
        int count = type == ElementType.Int16 ? 65536 : 256;
        float scale = Pick(Scale(1e-4, 10), Scale(0.01, 0.2), 3e-39f, 1e30f);
        int zeroPoint = type switch { ElementType.UInt8 => Next(0, 255), ElementType.Int16 => Pick(0, Next(-32768, 32767)), _ => Next(-128, 127) };
        var input = b.Input(type, new[] { count }, Q(scale, zeroPoint));
        var output = b.Tensor(ElementType.Float32, new[] { count }, null);
        b.Op(OpKind.Dequantize, NoAttributes.Instance, new[] { input }, output);
        var bytes = type == ElementType.Int16
            ? Enumerable.Range(0, 65536).SelectMany(i => new[] { (byte)i, (byte)(i >> 8) }).ToArray()
            : Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        return new Case($"DEQUANTIZE {type.DisplayName()} every value, scale {scale:R}, zero point {zeroPoint}", b.Build(output), new[] { bytes });
    }

    private static int[] Permutation(Random random, int rank) => Enumerable.Range(0, rank).OrderBy(_ => random.Next()).ToArray();

    public Case Transpose(ElementType type)
    {
        var b = new GraphBuilder();
        var shape = RandomShape(Next(1, 4));
        var perm = Permutation(_random, shape.Length);
        var q = type == ElementType.Float32 ? null : ActivationQ(type, 0.05f);
        var x = b.Input(type, shape, q);
        var y = b.Tensor(type, perm.Select(p => shape[p]).ToArray(), q);
        b.Op(OpKind.Transpose, new TransposeAttributes(perm), new[] { x }, y);
        return Make($"TRANSPOSE {type.DisplayName()} [{string.Join(",", shape)}] perm [{string.Join(",", perm)}]", b, y);
    }

    public Case Concatenation(ElementType type)
    {
        var b = new GraphBuilder();
        var shape = RandomShape(Next(1, 4));
        int axis = Next(0, shape.Length - 1);
        var q = type == ElementType.Float32 ? null : ActivationQ(type, 0.05f);
        var inputs = Enumerable.Range(0, Next(1, 3)).Select(_ =>
        {
            var s = (int[])shape.Clone();
            s[axis] = Next(1, 4);
            return _random.Next(5) == 0 ? b.Tensor(type, s, q, RandomData(type, s.Aggregate(1L, (p, d) => p * d))) : b.Input(type, s, q);
        }).ToArray();
        if (inputs.All(t => t.IsConstant)) inputs[0] = b.Input(type, inputs[0].Shape, q);
        var outShape = (int[])shape.Clone();
        outShape[axis] = inputs.Sum(t => t.Shape[axis]);
        var y = b.Tensor(type, outShape, q);
        b.Op(OpKind.Concatenation, new ConcatenationAttributes(axis, FusedActivation.None), inputs, y);
        return Make($"CONCATENATION {type.DisplayName()} {inputs.Length} inputs axis {axis} -> [{string.Join(",", outShape)}]", b, y);
    }

    public Case Pad(ElementType type, bool v2)
    {
        var b = new GraphBuilder();
        var shape = RandomShape(Next(1, 4));
        var before = shape.Select(_ => Next(0, 2)).ToArray();
        var after = shape.Select(_ => Next(0, 2)).ToArray();
        var q = type == ElementType.Float32 ? null : ActivationQ(type, 0.05f);
        var x = b.Input(type, shape, q);
        var inputs = new List<Tensor?> { x };
        if (v2) inputs.Add(b.Tensor(type, new[] { 1 }, q, RandomData(type, 1)));
        var y = b.Tensor(type, shape.Select((d, i) => d + before[i] + after[i]).ToArray(), q);
        b.Op(v2 ? OpKind.PadV2 : OpKind.Pad, new PadAttributes(before, after), inputs.ToArray(), y);
        return Make($"{(v2 ? "PADV2" : "PAD")} {type.DisplayName()} [{string.Join(",", shape)}] before [{string.Join(",", before)}] after [{string.Join(",", after)}]", b, y);
    }

    public Case StridedSlice(ElementType type)
    {
        while (true)
        {
            var shape = RandomShape(Next(1, 3)).Select(d => d + 2).ToArray();
            int rank = shape.Length;
            var begin = shape.Select(d => Next(-d, d - 1)).ToArray();
            var end = shape.Select(d => Next(-d, d)).ToArray();
            var strides = shape.Select(_ => Pick(1, 1, 2, -1, -2)).ToArray();
            int beginMask = Next(0, (1 << rank) - 1), endMask = Next(0, (1 << rank) - 1);
            int shrink = _random.Next(3) == 0 ? 1 << Next(0, rank - 1) : 0;
            var attributes = new StridedSliceAttributes(begin, end, strides, beginMask, endMask, 0, 0, shrink, false);
            var axes = MicroTvm.Compiler.Reference.LayoutReference.ResolveSliceAxes(attributes, rank);
            var counts = new List<int>();
            for (int d = 0; d < rank; d++)
            {
                int start = MicroTvm.Compiler.Reference.LayoutReference.StartForAxis(axes[d], shape[d]);
                int stop = MicroTvm.Compiler.Reference.LayoutReference.StopForAxis(axes[d], shape[d], start);
                int step = axes[d].Stride;
                int count = Math.Max(0, step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step);
                if ((shrink & (1 << d)) == 0) counts.Add(count);
                else if (count != 1) counts.Add(-1);
            }

            if (counts.Any(n => n <= 0)) continue;
            var b = new GraphBuilder();
            var q = type == ElementType.Float32 ? null : ActivationQ(type, 0.05f);
            var x = b.Input(type, shape, q);
            var y = b.Tensor(type, counts.ToArray(), q);
            b.Op(OpKind.StridedSlice, attributes, new[] { x }, y);
            return Make($"STRIDED_SLICE {type.DisplayName()} [{string.Join(",", shape)}] begin [{string.Join(",", begin)}] end [{string.Join(",", end)}] strides [{string.Join(",", strides)}] masks {beginMask}/{endMask}/{shrink}", b, y);
        }
    }

    public Case Mean(ElementType type)
    {
        var b = new GraphBuilder();
        var shape = RandomShape(Next(1, 4));
        var axes = Enumerable.Range(0, shape.Length).Where(_ => _random.Next(2) == 0).ToArray();
        if (axes.Length == 0) axes = new[] { Next(0, shape.Length - 1) };
        bool keep = _random.Next(2) == 0;
        var qi = type == ElementType.Float32 ? null : ActivationQ(type, Scale(0.01, 0.1));
        var qo = qi is null || _random.Next(3) == 0 ? qi : ActivationQ(type, Scale(0.01, 0.1));
        var x = b.Input(type, shape, qi);
        var outShape = keep ? shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray() : shape.Where((d, i) => !axes.Contains(i)).ToArray();
        var y = b.Tensor(type, outShape, qo);
        b.Op(OpKind.Mean, new MeanAttributes(axes, keep), new[] { x }, y);
        return Make($"MEAN {type.DisplayName()} [{string.Join(",", shape)}] axes [{string.Join(",", axes)}]", b, y);
    }

    public Case TransposeConv(ElementType type)
    {
        var b = new GraphBuilder();
        int n = Next(1, 2), h = Next(1, 5), w = Next(1, 5), ic = Next(1, 4), oc = Next(1, 4);
        int kh = Next(1, 4), kw = Next(1, 4), sh = Next(1, 3), sw = Next(1, 3);
        var padding = Pick(Padding.Same, Padding.Valid);
        int oh = padding == Padding.Same ? h * sh : (h - 1) * sh + kh;
        int ow = padding == Padding.Same ? w * sw : (w - 1) * sw + kw;
        float inScale = Scale(0.005, 0.1);
        var input = b.Input(type, new[] { n, h, w, ic }, type == ElementType.Float32 ? null : ActivationQ(type, inScale));
        var (filter, bias) = Parameters(b, type, new[] { oc, kh, kw, ic }, oc, kh * kw * ic, 0, OpKind.TransposeConv);
        var output = b.Tensor(type, new[] { n, oh, ow, oc }, type == ElementType.Float32 ? null : ActivationQ(type, OutputScale(inScale, filter, kh * kw * ic, type)));
        var activation = Activation();
        b.Op(OpKind.TransposeConv, new TransposeConvAttributes(padding, sh, sw, new[] { n, oh, ow, oc }, activation), new[] { input, filter, bias }, output);
        return Make($"TRANSPOSE_CONV {type.DisplayName()} in [{n},{h},{w},{ic}] filter {kh}x{kw} out [{oh},{ow},{oc}] stride {sh}x{sw} {padding} {activation}", b, output);
    }

    /// <summary>Graph interfaces the entry point must handle: an input that is also an output, one tensor listed as
    /// two outputs, an output that is a reshape of an input (aliases of caller buffers), an output also read by a
    /// later operator, two inputs.</summary>
    public IEnumerable<Case> InterfaceCases()
    {
        var q = Q(0.05f, 3);
        {
            var b = new GraphBuilder();
            var x = b.Input(ElementType.Int8, new[] { 2, 3 }, q);
            var r = b.Tensor(ElementType.Int8, new[] { 6 }, q);
            b.Op(OpKind.Reshape, new ReshapeAttributes(new[] { 6 }), new[] { x }, r);
            var y = b.Tensor(ElementType.Int8, new[] { 6 }, Q(0.1f, -5));
            b.Op(OpKind.Add, new ElementwiseAttributes(FusedActivation.None), new[] { r, r }, y);
            var graph = new Graph("g", GraphTensors(b), GraphNodes(b), new[] { x }, new[] { y, x, r, y });
            graph.Validate();
            yield return new Case("input as output, reshape of an input as output, duplicated output", graph, new[] { RandomData(ElementType.Int8, 6) });
        }
        {
            var b = new GraphBuilder();
            var x = b.Input(ElementType.Float32, new[] { 4 }, null);
            var z = b.Input(ElementType.Float32, new[] { 4 }, null);
            var s = b.Tensor(ElementType.Float32, new[] { 4 }, null);
            b.Op(OpKind.Add, new ElementwiseAttributes(FusedActivation.None), new[] { x, z }, s);
            var t = b.Tensor(ElementType.Float32, new[] { 4 }, null);
            b.Op(OpKind.Mul, new ElementwiseAttributes(FusedActivation.Relu), new[] { s, x }, t);
            var graph = new Graph("g", GraphTensors(b), GraphNodes(b), new[] { x, z }, new[] { s, t });
            graph.Validate();
            yield return new Case("two inputs, an output read by a later operator", graph, new[] { RandomData(ElementType.Float32, 4), RandomData(ElementType.Float32, 4) });
        }
    }

    private static IReadOnlyList<Tensor> GraphTensors(GraphBuilder b) => b.Build().Tensors;

    private static IReadOnlyList<Node> GraphNodes(GraphBuilder b) => b.Build().Nodes;

    /// <summary>A chain that exercises the planner: reshape aliases, in-place element-wise operators, a reshape as
    /// the graph output (copied into the caller's buffer).</summary>
    /// <summary>A CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED with no fused activation, then a standalone RELU or
    /// RELU6. <paramref name="variant"/>: "same" (the activation's output quantized like its input: the compiler folds
    /// it into the layer), "rescaled" (another scale and zero point), "shared" (the layer's output is also a graph
    /// output), "already" (the layer has a fused activation of its own); only "same" is folded.</summary>
    public Case LayerThenActivation(ElementType type, OpKind activation, string variant)
    {
        var b = new GraphBuilder();
        int kind = Next(0, 2), n = Next(1, 2), h = Next(1, 6), w = Next(1, 6), c = Next(1, 8), oc = kind == 1 ? c : Next(1, 8);
        float inScale = Scale(0.005, 0.1);
        QuantizationParameters? Quantized(float scale) => type == ElementType.Float32 ? null : ActivationQ(type, scale);
        var own = variant == "already" ? Pick(FusedActivation.Relu, FusedActivation.Relu6, FusedActivation.ReluN1To1) : FusedActivation.None;
        Tensor input, layer;
        string description;
        if (kind == 2)
        {
            input = b.Input(type, new[] { n, c }, Quantized(inScale));
            var (weights, bias) = Parameters(b, type, new[] { oc, c }, oc, c, 0);
            layer = b.Tensor(type, new[] { n, oc }, Quantized(OutputScale(inScale, weights, c, type)));
            b.Op(OpKind.FullyConnected, new FullyConnectedAttributes(own, false), new[] { input, weights, bias }, layer);
            description = $"FULLY_CONNECTED [{n},{c}]x[{oc},{c}] {own}";
        }
        else
        {
            input = b.Input(type, new[] { n, h, w, c }, Quantized(inScale));
            bool depthwise = kind == 1;
            var (filter, bias) = depthwise
                ? Parameters(b, type, new[] { 1, 3, 3, oc }, oc, 9, 3, OpKind.DepthwiseConv2D)
                : Parameters(b, type, new[] { oc, 3, 3, c }, oc, 9 * c, 0);
            layer = b.Tensor(type, new[] { n, h, w, oc }, Quantized(OutputScale(inScale, filter, depthwise ? 9 : 9 * c, type)));
            OpAttributes attributes = depthwise
                ? new DepthwiseConv2DAttributes(Padding.Same, 1, 1, 1, 1, 1, own)
                : new Conv2DAttributes(Padding.Same, 1, 1, 1, 1, own);
            b.Op(depthwise ? OpKind.DepthwiseConv2D : OpKind.Conv2D, attributes, new[] { input, filter, bias }, layer);
            description = $"{(depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D")} [{n},{h},{w},{c}] 3x3 out {oc} {own}";
        }

        var q = layer.Quantization;
        var activated = b.Tensor(type, layer.Shape, variant == "rescaled" && q is not null ? ActivationQ(type, q.Scale * Scale(0.5, 2)) : q);
        b.Op(activation, NoAttributes.Instance, new[] { layer }, activated);
        var graph = variant == "shared" ? b.Build(activated, layer) : b.Build(activated);
        return new Case($"{description} then {activation.Name} ({variant}) {type.DisplayName()}", graph,
            graph.Inputs.Select(t => RandomData(t.Type, t.ElementCount)).ToArray());
    }

    public Case Chain()
    {
        var b = new GraphBuilder();
        int rows = Next(1, 3), depth = Next(2, 16);
        var q = ActivationQ(ElementType.Int8, Scale(0.02, 0.1));
        var x = b.Input(ElementType.Int8, new[] { rows, depth }, q);
        var (w, bias) = Parameters(b, ElementType.Int8, new[] { depth, depth }, depth, depth, 0);
        var fc = b.Tensor(ElementType.Int8, new[] { rows, depth }, ActivationQ(ElementType.Int8, OutputScale(q.Scale, w, depth, ElementType.Int8)));
        b.Op(OpKind.FullyConnected, new FullyConnectedAttributes(FusedActivation.None, false), new[] { x, w, bias }, fc);
        var reshaped = b.Tensor(ElementType.Int8, new[] { 1, rows, depth }, fc.Quantization);
        b.Op(OpKind.Reshape, new ReshapeAttributes(new[] { 1, rows, depth }), new[] { fc }, reshaped);
        var sum = b.Tensor(ElementType.Int8, new[] { 1, rows, depth }, ActivationQ(ElementType.Int8, Scale(0.02, 0.2)));
        b.Op(OpKind.Add, new ElementwiseAttributes(Activation()), new[] { reshaped, reshaped }, sum);
        var soft = b.Tensor(ElementType.Int8, new[] { 1, rows, depth }, Q(1f / 256, -128));
        b.Op(OpKind.Softmax, new SoftmaxAttributes(1f), new[] { sum }, soft);
        var flat = b.Tensor(ElementType.Int8, new[] { rows * depth }, soft.Quantization);
        b.Op(OpKind.Reshape, new ReshapeAttributes(new[] { rows * depth }), new[] { soft }, flat);
        return Make($"chain FULLY_CONNECTED>RESHAPE>ADD>SOFTMAX>RESHAPE [{rows},{depth}]", b, flat);
    }

    /// <summary>UNIDIRECTIONAL_SEQUENCE_LSTM of <paramref name="type"/> (int16: 16x8) from its initial state: random
    /// sizes, batch or time major, cell clip or none, state scales (powers of two or not, as TFLite Micro takes both).</summary>
    public Case Lstm(ElementType type, bool timeMajor)
    {
        var b = new GraphBuilder();
        int batch = Next(1, 2), time = Next(1, 5), features = Next(1, 12), units = Next(1, 10);
        bool isFloat = type == ElementType.Float32;
        QuantizationParameters? Activation(double low, double high) => isFloat ? null : ActivationQ(type, type == ElementType.Int16 ? Scale(low, high) / 256 : Scale(low, high));
        var input = b.Input(type, timeMajor ? new[] { time, batch, features } : new[] { batch, time, features }, Activation(0.005, 0.05));
        var operands = new Tensor?[MicroTvm.Compiler.Ir.Lstm.OperandCount];
        operands[0] = input;
        for (int g = 0; g < 8; g++)
        {
            int depth = g < 4 ? features : units;
            var shape = new[] { units, depth };
            operands[1 + g] = isFloat
                ? b.Tensor(type, shape, null, RandomData(type, units * depth, 0.5))
                : b.Tensor(ElementType.Int8, shape, Q(Scale(0.002, 0.03)), Bytes(ElementType.Int8, Enumerable.Range(0, units * depth).Select(_ => (double)Next(-127, 127))));
        }

        var biasType = type switch { ElementType.Float32 => ElementType.Float32, ElementType.Int8 => ElementType.Int32, _ => ElementType.Int64 };
        for (int g = 0; g < 4; g++)
            operands[12 + g] = b.Tensor(biasType, new[] { units }, null, isFloat ? RandomData(type, units, 1.0) : Bytes(biasType, Enumerable.Range(0, units).Select(_ => (double)Next(-2000, 2000))));
        var hiddenQ = Activation(0.004, 0.02);
        operands[18] = b.Variable(type, new[] { batch, units }, hiddenQ);
        // The cell scale: usually 2^-11 .. 2^-15, sometimes not a power of two (TFLite Micro rounds its log2).
        float cellScale = (float)Math.Pow(2, -Next(11, 15)) * (_random.Next(4) == 0 ? Scale(0.8, 1.2) : 1f);
        operands[19] = b.Variable(isFloat ? ElementType.Float32 : ElementType.Int16, new[] { batch, units }, isFloat ? null : Q(cellScale));
        var output = b.Tensor(type, new[] { input.Shape[0], input.Shape[1], units }, hiddenQ);
        float clip = _random.Next(2) == 0 ? 0f : Scale(0.5, 8);
        b.Op(OpKind.UnidirectionalSequenceLstm, new LstmAttributes(FusedActivation.Tanh, clip, 0f, timeMajor), operands, output);
        return Make($"UNIDIRECTIONAL_SEQUENCE_LSTM {type.DisplayName()} {(timeMajor ? "time major" : "batch major")} batch {batch} time {time} input {features} units {units} clip {clip}", b, output);
    }
}
