using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Compiler.Tests.Frontend;

/// <summary>
/// UNIDIRECTIONAL_SEQUENCE_LSTM from a TFLite file: 24 operands (absent ones -1), the variable state tensors, the
/// options; and each variant TensorFlow Lite Micro's kernel refuses is refused with a code naming the operator.
/// </summary>
public class LstmImportTests
{
    private const int Units = 3, Features = 4, Time = 5;

    /// <summary>An int8 LSTM [1, time, 4] -> [1, time, 3]; <paramref name="change"/> may replace operands or options
    /// before the operator is added.</summary>
    private static byte[] Model(int time = Time, Action<TfliteModelBuilder, int[]>? change = null, int activation = 4, float clip = 0f, bool timeMajor = false,
        bool perChannel = false, sbyte cellType = TensorTypes.Int16)
    {
        var b = new TfliteModelBuilder();
        var random = new Random(5);
        byte[] Bytes(int count) => Enumerable.Range(0, count).Select(_ => (byte)(sbyte)random.Next(-100, 100)).ToArray();
        byte[] Int32s(int count) => Enumerable.Range(0, count).SelectMany(_ => BitConverter.GetBytes(random.Next(-3000, 3000))).ToArray();
        var operands = Enumerable.Repeat(-1, 24).ToArray();
        operands[0] = b.AddTensor("x", ElementType.Int8, new[] { 1, time, Features }, quantization: (0.02f, 5));
        for (int g = 0; g < 8; g++)
        {
            int depth = g < 4 ? Features : Units;
            operands[1 + g] = perChannel && g == 2
                ? b.AddTensor($"w{g}", TensorTypes.Int8, new[] { Units, depth }, Bytes(Units * depth), scales: new[] { 0.01f, 0.02f, 0.03f }, zeroPoints: new long[3])
                : b.AddTensor($"w{g}", TensorTypes.Int8, new[] { Units, depth }, Bytes(Units * depth), scales: new[] { 0.01f + 0.001f * g }, zeroPoints: new long[1]);
        }

        for (int g = 0; g < 4; g++) operands[12 + g] = b.AddTensor($"b{g}", TensorTypes.Int32, new[] { Units }, Int32s(Units));
        operands[18] = b.AddTensor("h", TensorTypes.Int8, new[] { 1, Units }, scales: new[] { 0.008f }, zeroPoints: new long[] { -4 }, isVariable: true);
        operands[19] = b.AddTensor("c", cellType, new[] { 1, Units }, scales: new[] { 1f / 2048 }, zeroPoints: new long[1], isVariable: true);
        int y = b.AddTensor("y", ElementType.Int8, new[] { 1, time, Units }, quantization: (0.008f, -4));
        change?.Invoke(b, operands);
        var options = new Options(71, new FbTable().Int8(0, activation).Float32(1, clip).Float32(2, 0f).Bool(3, timeMajor));
        b.AddOperator(44, operands, new[] { y }, options);
        b.Inputs.Add(operands[0]);
        b.Outputs.Add(y);
        return b.Build();
    }

    private static CompilerException Rejected(byte[] model)
    {
        var e = Assert.Throws<CompilerException>(() => TfliteImporter.Load(model, "lstm.tflite"));
        Assert.Equal(0, e.OperatorIndex);
        Assert.Equal("UNIDIRECTIONAL_SEQUENCE_LSTM", e.OperatorName);
        Assert.Equal("lstm.tflite", e.File);
        return e;
    }

    [Fact]
    public void OperandsOptionsAndStateAreImported()
    {
        var graph = TfliteImporter.Load(Model(clip: 3.5f, timeMajor: false), "lstm.tflite");
        var node = Assert.Single(graph.Nodes);
        Assert.Equal(OpKind.UnidirectionalSequenceLstm, node.Kind);
        Assert.Equal(new LstmAttributes(FusedActivation.Tanh, 3.5f, 0f, false), node.Attributes);
        Assert.Equal(24, node.Inputs.Count);
        Assert.All(new[] { 9, 10, 11, 16, 17, 20, 21, 22, 23 }, i => Assert.Null(node.Inputs[i]));
        Assert.True(node.Input(Lstm.OutputState).IsVariable && node.Input(Lstm.CellState).IsVariable);
        Assert.Equal(new Lstm.Sizes(1, Time, Features, Units), Lstm.SizesOf(node));
        Assert.Equal(Time * 4L * Units * (Features + Units), Analysis.GraphStats.Macs(node));
    }

    /// <summary>The state carries over: two runs on halves of a sequence, the state kept, give the second half of
    /// one run on the whole sequence, and a reset starts over.</summary>
    [Fact]
    public void TwoRunsWithTheStateKeptEqualOneRunOnTheWholeSequence()
    {
        var whole = TfliteImporter.Load(Model(time: 2 * Time), "whole.tflite");
        var half = TfliteImporter.Load(Model(time: Time), "half.tflite");
        var x = Enumerable.Range(0, 2 * Time * Features).Select(i => (byte)(sbyte)((i * 37) % 255 - 127)).ToArray();
        var expected = ReferenceEvaluator.Run(whole, new[] { x })[whole.Outputs[0]];

        var state = new ModelState(half);
        var first = ReferenceEvaluator.Run(half, new[] { x[..(Time * Features)] }, state)[half.Outputs[0]];
        var second = ReferenceEvaluator.Run(half, new[] { x[(Time * Features)..] }, state)[half.Outputs[0]];
        Assert.Equal(expected, first.Concat(second).ToArray());
        Assert.NotEqual(first, second);

        state.Reset();
        Assert.Equal(first, ReferenceEvaluator.Run(half, new[] { x[..(Time * Features)] }, state)[half.Outputs[0]]);
    }

    [Fact]
    public void PeepholeProjectionAndLayerNormAreRefusedAsTfliteMicroRefusesThem()
    {
        foreach (int operand in new[] { 9, 16, 20 })
        {
            var e = Rejected(Model(change: (b, ops) =>
                ops[operand] = b.AddTensor("extra", TensorTypes.Int16, operand == 16 ? new[] { Units, Units } : new[] { Units }, new byte[(operand == 16 ? Units * Units : Units) * 2], scales: new[] { 0.01f }, zeroPoints: new long[1])));
            Assert.Equal(ErrorCodes.UnsupportedFeature, e.Code);
            Assert.Contains($"operand {operand}", e.Message);
        }
    }

    [Fact]
    public void AMissingInputGateIsRefused()
    {
        var e = Rejected(Model(change: (_, ops) => { ops[1] = -1; ops[5] = -1; ops[12] = -1; }));
        Assert.Equal(ErrorCodes.InvalidOperator, e.Code);
        Assert.Contains("CIFG", e.Message);
    }

    [Fact]
    public void ACellActivationOtherThanTanhIsRefused()
    {
        var e = Rejected(Model(activation: 1));
        Assert.Equal(ErrorCodes.UnsupportedFeature, e.Code);
        Assert.Contains("TANH", e.Message);
    }

    [Fact]
    public void PerChannelWeightsAndAnInt8CellAreRefused()
    {
        Assert.Equal(ErrorCodes.InvalidQuantization, Rejected(Model(perChannel: true)).Code);
        var e = Rejected(Model(cellType: TensorTypes.Int8));
        Assert.Equal(ErrorCodes.UnsupportedElementType, e.Code);
        Assert.Contains("int16", e.Message);
    }

    [Fact]
    public void WeightsOfTheWrongShapeAreRefused()
    {
        var e = Rejected(Model(change: (b, ops) => ops[6] = b.AddTensor("w5", TensorTypes.Int8, new[] { Units, Units + 1 }, new byte[Units * (Units + 1)], scales: new[] { 0.01f }, zeroPoints: new long[1])));
        Assert.Equal(ErrorCodes.InvalidShape, e.Code);
        Assert.Contains("recurrent weights", e.Message);
    }
}
