using System.Buffers.Binary;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Tests.Reference;

/// <summary>Builds small graphs by hand for operator tests, and converts values to and from tensor bytes.</summary>
internal sealed class GraphBuilder
{
    private readonly List<Tensor> _tensors = new();
    private readonly List<Node> _nodes = new();
    private readonly List<Tensor> _inputs = new();

    public static QuantizationParameters Q(float scale, long zeroPoint = 0) => QuantizationParameters.PerTensor(scale, zeroPoint);

    public static QuantizationParameters PerChannel(float[] scales, int dimension = 0) =>
        new(scales, scales.Select(_ => 0L).ToArray(), dimension);

    public Tensor Input(ElementType type, int[] shape, QuantizationParameters? q = null)
    {
        var t = Tensor(type, shape, q);
        _inputs.Add(t);
        return t;
    }

    public Tensor Tensor(ElementType type, int[] shape, QuantizationParameters? q = null, byte[]? data = null)
    {
        var t = new Tensor(_tensors.Count, $"t{_tensors.Count}", type, shape, q, data);
        _tensors.Add(t);
        return t;
    }

    /// <summary>A variable (state) tensor: read and updated in place by an operator, kept from run to run.</summary>
    public Tensor Variable(ElementType type, int[] shape, QuantizationParameters? q = null)
    {
        var t = new Tensor(_tensors.Count, $"t{_tensors.Count}", type, shape, q) { IsVariable = true };
        _tensors.Add(t);
        return t;
    }

    public Tensor Constant(ElementType type, int[] shape, double[] values, QuantizationParameters? q = null) =>
        Tensor(type, shape, q, Bytes(type, values));

    public Tensor Constant(ElementType type, int[] shape, int[] values, QuantizationParameters? q = null) =>
        Constant(type, shape, values.Select(v => (double)v).ToArray(), q);

    public Node Op(OpKind kind, OpAttributes attributes, Tensor?[] inputs, Tensor output)
    {
        var node = new Node(_nodes.Count, kind, attributes, inputs, new[] { output });
        _nodes.Add(node);
        return node;
    }

    public Graph Build(params Tensor[] outputs)
    {
        var graph = new Graph("test", _tensors, _nodes, _inputs, outputs);
        graph.Validate();
        return graph;
    }

    public static byte[] Bytes(ElementType type, IEnumerable<double> values)
    {
        var list = values.ToList();
        var bytes = new byte[list.Count * type.SizeInBytes()];
        for (int i = 0; i < list.Count; i++)
        {
            double v = list[i];
            switch (type)
            {
                case ElementType.Float32: BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), (float)v); break;
                case ElementType.Int8: bytes[i] = (byte)checked((sbyte)v); break;
                case ElementType.UInt8: bytes[i] = checked((byte)v); break;
                case ElementType.Int16: BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(2 * i), checked((short)v)); break;
                case ElementType.Int32: BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), checked((int)v)); break;
                case ElementType.Int64: BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 * i), checked((long)v)); break;
                default: throw new ArgumentOutOfRangeException(nameof(type));
            }
        }

        return bytes;
    }

    public static byte[] Bytes(ElementType type, IEnumerable<int> values) => Bytes(type, values.Select(v => (double)v));

    public static double[] Values(ElementType type, byte[] bytes)
    {
        int n = bytes.Length / type.SizeInBytes();
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = type switch
            {
                ElementType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i)),
                ElementType.Int8 => (sbyte)bytes[i],
                ElementType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(2 * i)),
                ElementType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i)),
                _ => throw new ArgumentOutOfRangeException(nameof(type)),
            };
        }

        return values;
    }

    /// <summary>Runs a one-output graph and returns the output's values.</summary>
    public static double[] RunSingle(Graph graph, params double[][] inputs)
    {
        var bytes = inputs.Select((v, i) => Bytes(graph.Inputs[i].Type, v)).ToList();
        var result = ReferenceEvaluator.Run(graph, bytes);
        return Values(graph.Outputs[0].Type, result[graph.Outputs[0]]);
    }

    public static double[] RunSingle(Graph graph, params int[][] inputs) =>
        RunSingle(graph, inputs.Select(v => v.Select(x => (double)x).ToArray()).ToArray());

    /// <summary>Round half away from zero, the rounding of every TFLite requantization when no earlier rounding interferes.</summary>
    public static int RoundHalfAway(double x) => (int)Math.Round(x, MidpointRounding.AwayFromZero);
}
