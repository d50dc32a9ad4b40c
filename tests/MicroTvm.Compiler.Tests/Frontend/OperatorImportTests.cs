using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Compiler.Tests.Frontend;

/// <summary>Single-operator models: options become typed attributes, descriptive constant operands become attributes, data operands stay inputs.</summary>
public class OperatorImportTests
{
    private static Node ImportSingle(TfliteModelBuilder b, int input, int output)
    {
        b.Inputs.Add(input);
        b.Outputs.Add(output);
        var graph = TfliteImporter.Load(b.Build(), "op.tflite");
        return Assert.Single(graph.Nodes);
    }

    [Fact]
    public void Conv2DWithDilationAndPerChannelWeights()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, new[] { 1, 9, 9, 2 }, quantization: (0.5f, 3));
        int w = b.AddTensor("w", TensorTypes.Int8, new[] { 3, 3, 3, 2 }, new byte[54], scales: new[] { 0.1f, 0.2f, 0.3f }, zeroPoints: new long[3], quantizedDimension: 0);
        int bias = b.AddTensor("b", TensorTypes.Int32, new[] { 3 }, Int32s(1, 2, 3), scales: new[] { 0.05f, 0.1f, 0.15f }, zeroPoints: new long[3]);
        int y = b.AddTensor("y", ElementType.Int8, new[] { 1, 3, 5, 3 }, quantization: (0.25f, -1));
        b.AddOperator(Builtin.Conv2D, new[] { x, w, bias }, new[] { y }, Options.Conv2D(Options.Valid, strideW: 1, strideH: 2, activation: 3, dilationW: 2, dilationH: 2));
        var node = ImportSingle(b, x, y);
        var a = node.AttributesAs<Conv2DAttributes>();
        Assert.Equal(new Conv2DAttributes(Padding.Valid, 2, 1, 2, 2, FusedActivation.Relu6), a);
        Assert.Equal(new[] { "x", "w", "b" }, node.Inputs.Select(t => t!.Name));
        Assert.Equal(new[] { 0.1f, 0.2f, 0.3f }, node.Input(1).Quantization!.Scales);
    }

    /// <summary>
    /// Converters copy a depthwise filter's quantized_dimension 3 onto its rank-1 bias; TFLite Micro ignores the
    /// field (scales run along each operator's channel dimension), so the model imports and compiles.
    /// </summary>
    [Fact]
    public void QuantizedDimensionOutsideTheRankIsAcceptedAsTfliteMicroDoes()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, new[] { 1, 5, 5, 4 }, quantization: (0.5f, 3));
        int w = b.AddTensor("w", TensorTypes.Int8, new[] { 1, 3, 3, 4 }, new byte[36], scales: new[] { 0.1f, 0.2f, 0.3f, 0.4f }, zeroPoints: new long[4], quantizedDimension: 3);
        int bias = b.AddTensor("b", TensorTypes.Int32, new[] { 4 }, Int32s(1, 2, 3, 4), scales: new[] { 0.05f, 0.1f, 0.15f, 0.2f }, zeroPoints: new long[4], quantizedDimension: 3);
        int y = b.AddTensor("y", ElementType.Int8, new[] { 1, 3, 3, 4 }, quantization: (0.25f, -1));
        b.AddOperator(Builtin.DepthwiseConv2D, new[] { x, w, bias }, new[] { y }, Options.DepthwiseConv2D(Options.Valid, 1, 1, depthMultiplier: 1));
        var node = ImportSingle(b, x, y);
        Assert.Equal(4, node.Input(2).Quantization!.Scales.Count);
        var graph = TfliteImporter.Load(b.Build(), "op.tflite");
        Assert.Contains("op.c", ModelCompiler.Compile(graph, new CompileOptions("host", "op")).Files.Keys);
    }

    /// <summary>Weights whose quantized_dimension is wrong still work when the scales fit the channel dimension (TFLite Micro's only check).</summary>
    [Fact]
    public void PerChannelWeightsAreCheckedByTheirScaleCountAlongTheChannelDimension()
    {
        TfliteModelBuilder Conv(int scaleCount, int quantizedDimension, out int x, out int y)
        {
            var b = new TfliteModelBuilder();
            x = b.AddTensor("x", ElementType.Int8, new[] { 1, 4, 4, 2 }, quantization: (0.5f, 0));
            int w = b.AddTensor("w", TensorTypes.Int8, new[] { 3, 1, 1, 2 }, new byte[6], scales: Enumerable.Repeat(0.1f, scaleCount).ToArray(), zeroPoints: new long[scaleCount], quantizedDimension: quantizedDimension);
            y = b.AddTensor("y", ElementType.Int8, new[] { 1, 4, 4, 3 }, quantization: (0.25f, 0));
            b.AddOperator(Builtin.Conv2D, new[] { x, w, -1 }, new[] { y }, Options.Conv2D(Options.Valid, 1, 1));
            return b;
        }

        var accepted = Conv(3, 3, out int x, out int y);
        Assert.Equal(3, ImportSingle(accepted, x, y).Input(1).Quantization!.Scales.Count);

        var rejected = Conv(2, 3, out x, out y);
        rejected.Inputs.Add(x);
        rejected.Outputs.Add(y);
        var e = Assert.Throws<MicroTvm.Compiler.Diagnostics.CompilerException>(() => TfliteImporter.Load(rejected.Build(), "op.tflite"));
        Assert.Equal(MicroTvm.Compiler.Diagnostics.ErrorCodes.InvalidQuantization, e.Code);
        Assert.Equal(0, e.OperatorIndex);
        Assert.Contains("one per output channel", e.Message);
    }

    [Fact]
    public void FullyConnectedWithoutBiasHasNullThirdInput()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 2, 3 });
        int w = b.AddTensor("w", ElementType.Float32, new[] { 4, 3 }, Floats(new float[12]));
        int y = b.AddTensor("y", ElementType.Float32, new[] { 2, 4 });
        b.AddOperator(Builtin.FullyConnected, new[] { x, w, -1 }, new[] { y }, Options.FullyConnected(activation: 1));
        var node = ImportSingle(b, x, y);
        Assert.Equal(3, node.Inputs.Count);
        Assert.Null(node.Inputs[2]);
        Assert.Equal(new FullyConnectedAttributes(FusedActivation.Relu, false), node.Attributes);
    }

    /// <summary>Some converters write an absent bias as a tensor with no elements and no data instead of -1.</summary>
    [Fact]
    public void AnEmptyTensorWithoutDataIsAnAbsentOptionalOperand()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 2, 3 });
        int w = b.AddTensor("w", ElementType.Float32, new[] { 4, 3 }, Floats(new float[12]));
        int bias = b.AddTensor("no_bias", ElementType.Float32, new[] { 0 });
        int y = b.AddTensor("y", ElementType.Float32, new[] { 2, 4 });
        b.AddOperator(Builtin.FullyConnected, new[] { x, w, bias }, new[] { y });
        var node = ImportSingle(b, x, y);
        Assert.Null(node.Inputs[2]);
    }

    [Fact]
    public void DepthwiseMultiplierComesFromTheShapes()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 4, 4, 2 });
        int w = b.AddTensor("w", ElementType.Float32, new[] { 1, 3, 3, 6 }, Floats(new float[54]));
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 2, 2, 6 });
        b.AddOperator(Builtin.DepthwiseConv2D, new[] { x, w }, new[] { y }, Options.DepthwiseConv2D(Options.Same, 2, 2, depthMultiplier: 0));
        var node = ImportSingle(b, x, y);
        Assert.Equal(3, node.AttributesAs<DepthwiseConv2DAttributes>().DepthMultiplier);
        Assert.Null(node.Inputs[2]);
    }

    [Fact]
    public void TransposeConvOperandsAreReordered()
    {
        var b = new TfliteModelBuilder();
        int shape = b.AddTensor("shape", ElementType.Int32, new[] { 4 }, Int32s(1, 8, 8, 3));
        int w = b.AddTensor("w", ElementType.Float32, new[] { 3, 3, 3, 2 }, Floats(new float[54]));
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 4, 4, 2 });
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 8, 8, 3 });
        b.AddOperator(Builtin.TransposeConv, new[] { shape, w, x }, new[] { y }, Options.TransposeConv(Options.Same, 2, 2));
        var node = ImportSingle(b, x, y);
        var a = node.AttributesAs<TransposeConvAttributes>();
        Assert.Equal(new[] { 1, 8, 8, 3 }, a.OutputShape);
        Assert.Equal((2, 2, Padding.Same), (a.StrideH, a.StrideW, a.Padding));
        Assert.Equal(new[] { "x", "w" }, node.Inputs.Take(2).Select(t => t!.Name));
        Assert.Null(node.Inputs[2]);
    }

    /// <summary>
    /// TRANSPOSE_CONV whose output_shape is a model input: TFLite Micro cannot resize tensors and keeps the declared
    /// output shape, so the model computes exactly what the constant-shape model computes.
    /// </summary>
    [Fact]
    public void TransposeConvWithComputedOutputShapeUsesTheDeclaredOutputShape()
    {
        Graph Build(bool constantShape)
        {
            var b = new TfliteModelBuilder();
            int shape = constantShape
                ? b.AddTensor("shape", ElementType.Int32, new[] { 4 }, Int32s(1, 8, 8, 3))
                : b.AddTensor("shape", ElementType.Int32, new[] { 4 });
            var weights = Enumerable.Range(0, 54).Select(i => (float)Math.Sin(i)).ToArray();
            int w = b.AddTensor("w", ElementType.Float32, new[] { 3, 3, 3, 2 }, Floats(weights));
            int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 4, 4, 2 });
            int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 8, 8, 3 });
            b.AddOperator(Builtin.TransposeConv, new[] { shape, w, x }, new[] { y }, Options.TransposeConv(Options.Same, 2, 2));
            b.Inputs.Add(x);
            if (!constantShape) b.Inputs.Add(shape);
            b.Outputs.Add(y);
            return TfliteImporter.Load(b.Build(), "op.tflite");
        }

        var constant = Build(constantShape: true);
        var computed = Build(constantShape: false);
        Assert.Equal(new[] { 1, 8, 8, 3 }, Assert.Single(computed.Nodes).AttributesAs<TransposeConvAttributes>().OutputShape);
        var x = new byte[32 * 4];
        for (int i = 0; i < 32; i++) BitConverter.TryWriteBytes(x.AsSpan(4 * i), (float)Math.Cos(i));
        var expected = MicroTvm.Compiler.Reference.ReferenceEvaluator.Run(constant, new[] { x })[constant.Outputs[0]];
        var actual = MicroTvm.Compiler.Reference.ReferenceEvaluator.Run(computed, new[] { x, Int32s(1, 8, 8, 3) })[computed.Outputs[0]];
        Assert.Equal(expected, actual);
        Assert.Contains("op.c", ModelCompiler.Compile(computed, new CompileOptions("host", "op")).Files.Keys);
    }

    /// <summary>SOFTMAX's output quantization is accepted and rejected exactly where TFLite Micro's Prepare does.</summary>
    [Theory]
    [InlineData(ElementType.Int8, 1f / 65536, -32768, true)]
    [InlineData(ElementType.Int8, 1f / 65536 * 1.0005f, -32768, true)]
    [InlineData(ElementType.Int8, 1f / 65536, 0, false)]
    [InlineData(ElementType.Int8, 1f / 32768, -32768, false)]
    public void SoftmaxInt8ToInt16OutputQuantizationFollowsTfliteMicro(ElementType inputType, float scale, long zeroPoint, bool accepted)
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", inputType, new[] { 1, 4 }, quantization: (0.1f, 0));
        int y = b.AddTensor("y", ElementType.Int16, new[] { 1, 4 }, quantization: (scale, zeroPoint));
        b.AddOperator(Builtin.Softmax, new[] { x }, new[] { y }, Options.Softmax(1f));
        if (accepted)
        {
            Assert.Equal(OpKind.Softmax, ImportSingle(b, x, y).Kind);
            return;
        }

        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Assert.Throws<MicroTvm.Compiler.Diagnostics.CompilerException>(() => TfliteImporter.Load(b.Build(), "op.tflite"));
        Assert.Equal(MicroTvm.Compiler.Diagnostics.ErrorCodes.InvalidQuantization, e.Code);
        Assert.Contains("needs zero point -32768 and scale about 1/65536", e.Message);
    }

    [Theory]
    [InlineData(1f / 256, -128, true)]
    [InlineData(1f / 255, -128, false)]
    [InlineData(1f / 256, 0, false)]
    public void SoftmaxInt8OutputQuantizationFollowsTfliteMicro(float scale, long zeroPoint, bool accepted)
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, new[] { 1, 4 }, quantization: (0.1f, 0));
        int y = b.AddTensor("y", ElementType.Int8, new[] { 1, 4 }, quantization: (scale, zeroPoint));
        b.AddOperator(Builtin.Softmax, new[] { x }, new[] { y }, Options.Softmax(1f));
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var load = () => TfliteImporter.Load(b.Build(), "op.tflite");
        if (accepted) Assert.Single(load().Nodes);
        else Assert.Equal(MicroTvm.Compiler.Diagnostics.ErrorCodes.InvalidQuantization, Assert.Throws<MicroTvm.Compiler.Diagnostics.CompilerException>(load).Code);
    }

    [Fact]
    public void ReshapeFromShapeOperandResolvesMinusOne()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, new[] { 1, 2, 3, 4 }, quantization: (1f, 0));
        int s = b.AddTensor("s", ElementType.Int32, new[] { 2 }, Int32s(-1, 12));
        int y = b.AddTensor("y", ElementType.Int8, new[] { 2, 12 }, quantization: (1f, 0));
        b.AddOperator(Builtin.Reshape, new[] { x, s }, new[] { y });
        var node = ImportSingle(b, x, y);
        Assert.Equal(new[] { 2, 12 }, node.AttributesAs<ReshapeAttributes>().NewShape);
        Assert.Single(node.Inputs);
    }

    [Fact]
    public void ReshapeFromOptions()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 6 });
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 2, 3 });
        b.AddOperator(Builtin.Reshape, new[] { x }, new[] { y }, Options.Reshape(1, 2, 3));
        Assert.Equal(new[] { 1, 2, 3 }, ImportSingle(b, x, y).AttributesAs<ReshapeAttributes>().NewShape);
    }

    [Fact]
    public void SqueezeAndExpandDims()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 3, 1, 2 });
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 3, 2 });
        b.AddOperator(Builtin.Squeeze, new[] { x }, new[] { y }, Options.Squeeze(-2));
        Assert.Equal(new[] { 1, 3, 2 }, ImportSingle(b, x, y).AttributesAs<ReshapeAttributes>().NewShape);

        b = new TfliteModelBuilder();
        x = b.AddTensor("x", ElementType.Float32, new[] { 3, 2 });
        int axis = b.AddTensor("axis", ElementType.Int32, new[] { 1 }, Int32s(-1));
        y = b.AddTensor("y", ElementType.Float32, new[] { 3, 2, 1 });
        b.AddOperator(Builtin.ExpandDims, new[] { x, axis }, new[] { y });
        var node = ImportSingle(b, x, y);
        Assert.Equal(new[] { 3, 2, 1 }, node.AttributesAs<ReshapeAttributes>().NewShape);
        Assert.Single(node.Inputs);
    }

    [Fact]
    public void PadAndPadV2()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, new[] { 1, 2, 2, 1 }, quantization: (1f, 5));
        int p = b.AddTensor("p", ElementType.Int64, new[] { 4, 2 }, Int64s(0, 0, 1, 2, 3, 4, 0, 0));
        int v = b.AddTensor("v", ElementType.Int8, new[] { 1 }, Int8s(-7), quantization: (1f, 5));
        int y = b.AddTensor("y", ElementType.Int8, new[] { 1, 5, 9, 1 }, quantization: (1f, 5));
        b.AddOperator(Builtin.PadV2, new[] { x, p, v }, new[] { y });
        var node = ImportSingle(b, x, y);
        var a = node.AttributesAs<PadAttributes>();
        Assert.Equal(new[] { 0, 1, 3, 0 }, a.Before);
        Assert.Equal(new[] { 0, 2, 4, 0 }, a.After);
        Assert.Equal(new[] { "x", "v" }, node.Inputs.Select(t => t!.Name));

        b = new TfliteModelBuilder();
        x = b.AddTensor("x", ElementType.Float32, new[] { 2, 2 });
        p = b.AddTensor("p", ElementType.Int32, new[] { 2, 2 }, Int32s(1, 1, 0, 0));
        y = b.AddTensor("y", ElementType.Float32, new[] { 4, 2 });
        b.AddOperator(Builtin.Pad, new[] { x, p }, new[] { y });
        Assert.Single(ImportSingle(b, x, y).Inputs);
    }

    [Fact]
    public void MeanAxesAreNormalisedSortedDistinct()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 4, 5, 8 });
        int axes = b.AddTensor("axes", ElementType.Int32, new[] { 3 }, Int32s(2, -3, 1));
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 8 });
        b.AddOperator(Builtin.Mean, new[] { x, axes }, new[] { y }, Options.Reducer(keepDims: false));
        var node = ImportSingle(b, x, y);
        Assert.Equal(new MeanAttributes(new[] { 1, 2 }, false).Axes, node.AttributesAs<MeanAttributes>().Axes);
        Assert.Single(node.Inputs);
    }

    [Fact]
    public void StridedSliceWithMasks()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int16, new[] { 4, 10 }, quantization: (0.01f, 0));
        int begin = b.AddTensor("begin", ElementType.Int32, new[] { 2 }, Int32s(1, -1));
        int end = b.AddTensor("end", ElementType.Int32, new[] { 2 }, Int32s(0, 0));
        int strides = b.AddTensor("strides", ElementType.Int32, new[] { 2 }, Int32s(1, -3));
        int y = b.AddTensor("y", ElementType.Int16, new[] { 4 }, quantization: (0.01f, 0));
        // dim 0 shrinks at index 1; dim 1 runs 9, 6, 3, 0 (end mask, negative stride).
        b.AddOperator(Builtin.StridedSlice, new[] { x, begin, end, strides }, new[] { y }, Options.StridedSlice(endMask: 2, shrinkAxisMask: 1));
        var node = ImportSingle(b, x, y);
        var a = node.AttributesAs<StridedSliceAttributes>();
        Assert.Equal((2, 1), (a.EndMask, a.ShrinkAxisMask));
        Assert.Equal(new[] { 1, -3 }, a.Strides);
        Assert.Single(node.Inputs);
    }

    [Fact]
    public void TransposeConcatenationAndActivations()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 2, 3, 4 });
        int perm = b.AddTensor("perm", ElementType.Int32, new[] { 3 }, Int32s(2, 0, 1));
        int y = b.AddTensor("y", ElementType.Float32, new[] { 4, 2, 3 });
        b.AddOperator(Builtin.Transpose, new[] { x, perm }, new[] { y });
        Assert.Equal(new[] { 2, 0, 1 }, ImportSingle(b, x, y).AttributesAs<TransposeAttributes>().Permutation);

        b = new TfliteModelBuilder();
        x = b.AddTensor("x", ElementType.Float32, new[] { 2, 3 });
        int c = b.AddTensor("c", ElementType.Float32, new[] { 2, 1 }, Floats(1, 2));
        y = b.AddTensor("y", ElementType.Float32, new[] { 2, 4 });
        b.AddOperator(Builtin.Concatenation, new[] { x, c }, new[] { y }, Options.Concatenation(-1));
        var node = ImportSingle(b, x, y);
        Assert.Equal(new ConcatenationAttributes(1, FusedActivation.None), node.Attributes);
        Assert.Equal(2, node.Inputs.Count);

        b = new TfliteModelBuilder();
        x = b.AddTensor("x", ElementType.Float32, new[] { 5 });
        y = b.AddTensor("y", ElementType.Float32, new[] { 5 });
        b.AddOperator(Builtin.LeakyRelu, new[] { x }, new[] { y }, Options.LeakyRelu(0.125f));
        Assert.Equal(new LeakyReluAttributes(0.125f), ImportSingle(b, x, y).Attributes);
    }

    [Fact]
    public void BroadcastingElementwiseAndInt16Scheme()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int16, new[] { 1, 4, 1 }, quantization: (0.5f, 0));
        int z = b.AddTensor("z", ElementType.Int16, new[] { 3 }, Int16s(1, 2, 3), quantization: (0.25f, 0));
        int y = b.AddTensor("y", ElementType.Int16, new[] { 1, 4, 3 }, quantization: (1f, 0));
        b.AddOperator(Builtin.Sub, new[] { x, z }, new[] { y }, Options.Sub(activation: 1, potScaleInt16: false));
        Assert.Equal(new ElementwiseAttributes(FusedActivation.Relu, false), ImportSingle(b, x, y).Attributes);
    }

    [Fact]
    public void QuantizeAndDequantize()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 4 });
        int q = b.AddTensor("q", ElementType.Int8, new[] { 4 }, quantization: (0.1f, 2));
        int y = b.AddTensor("y", ElementType.Float32, new[] { 4 });
        b.AddOperator(Builtin.Quantize, new[] { x }, new[] { q });
        b.AddOperator(Builtin.Dequantize, new[] { q }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var graph = TfliteImporter.Load(b.Build());
        Assert.Equal(new[] { OpKind.Quantize, OpKind.Dequantize }, graph.Nodes.Select(n => n.Kind));
    }

    [Fact]
    public void EveryRegisteredOperatorHasTheSchemasNameForItsBuiltinCode()
    {
        Assert.NotEmpty(OpKind.All);
        foreach (var kind in OpKind.All)
            Assert.Equal(TfliteSchema.BuiltinOperatorName(kind.BuiltinCode), kind.Name);
        Assert.Equal(OpKind.All.Select(k => k.Name).Order(StringComparer.Ordinal), TfliteImporter.SupportedOperatorNames);
    }

    [Theory]
    [InlineData(0, "ADD")]
    [InlineData(87, "LOGICAL_NOT")]
    [InlineData(98, "LEAKY_RELU")]
    [InlineData(114, "QUANTIZE")]
    [InlineData(117, "HARD_SWISH")]
    [InlineData(150, "GELU")]
    [InlineData(161, "RIGHT_SHIFT")]
    [InlineData(162, "BUILTIN_162")]
    public void BuiltinOperatorNamesFollowTheSchema(int code, string name) =>
        Assert.Equal(name, TfliteSchema.BuiltinOperatorName(code));

    [Fact]
    public void BuffersStoredAfterTheFlatBuffer()
    {
        var b = new TfliteModelBuilder { ExternalBuffers = true };
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 3 });
        int w = b.AddTensor("w", ElementType.Float32, new[] { 2, 3 }, Floats(1, 2, 3, 4, 5, 6));
        int bias = b.AddTensor("b", ElementType.Float32, new[] { 2 }, Floats(-1, 1));
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 2 });
        b.AddOperator(Builtin.FullyConnected, new[] { x, w, bias }, new[] { y });
        var node = ImportSingle(b, x, y);
        Assert.Equal(Floats(1, 2, 3, 4, 5, 6), node.Input(1).Data);
        Assert.Equal(Floats(-1, 1), node.Input(2).Data);

        var model = TfliteModel.Read(b.Build());
        Assert.True(model.Buffers[1].Start > 0);
        Assert.Equal("min_runtime_version", Assert.Single(model.Metadata).Name);
    }

    [Fact]
    public void BufferAfterTheFlatBufferMustLieInTheFile()
    {
        var b = new TfliteModelBuilder { ExternalBuffers = true };
        int x = b.AddTensor("x", ElementType.Float32, new[] { 1, 3 });
        int w = b.AddTensor("w", ElementType.Float32, new[] { 2, 3 }, Floats(1, 2, 3, 4, 5, 6));
        int y = b.AddTensor("y", ElementType.Float32, new[] { 1, 2 });
        b.AddOperator(Builtin.FullyConnected, new[] { x, w, -1 }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var bytes = b.Build();
        var e = Assert.Throws<MicroTvm.Compiler.Diagnostics.CompilerException>(() => TfliteImporter.Load(bytes[..^8], "ext.tflite"));
        Assert.Equal(MicroTvm.Compiler.Diagnostics.ErrorCodes.InvalidConstantData, e.Code);
        Assert.Equal("ext.tflite", e.File);
    }

    [Fact]
    public void LegacyAndExtendedOperatorCodes()
    {
        var b = new TfliteModelBuilder { LegacyOperatorCodes = true };
        int x = b.AddTensor("x", ElementType.Float32, new[] { 4 });
        int y = b.AddTensor("y", ElementType.Float32, new[] { 4 });
        b.AddOperator(Builtin.HardSwish, new[] { x }, new[] { y });
        Assert.Equal(OpKind.HardSwish, ImportSingle(b, x, y).Kind);

        // Codes above 127: the 8-bit field holds 127 (PLACEHOLDER_FOR_GREATER_OP_CODES), the 32-bit field the real code.
        b = new TfliteModelBuilder();
        x = b.AddTensor("x", ElementType.Float32, new[] { 4 });
        y = b.AddTensor("y", ElementType.Float32, new[] { 4 });
        b.AddOperator(Builtin.Gelu, new[] { x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Assert.Throws<MicroTvm.Compiler.Diagnostics.CompilerException>(() => TfliteImporter.Load(b.Build()));
        Assert.Equal("GELU", e.OperatorName);
    }
}
