using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

/// <summary>Operators with weights: [input, weights, bias?], float32 or int8 weights with int8/int16 activations.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind Conv2D = new()
    {
        Name = "CONV_2D", BuiltinCode = 3, HasWeights = true, TypesText = OperatorSupport.WeightsTypesText,
        Import = r =>
        {
            r.Inputs(2, 3);
            var o = r.Options(1 /* Conv2DOptions */);
            return (new Conv2DAttributes(
                r.Padding(o?.Int8(0) ?? 0), o?.Int32(2) ?? 0, o?.Int32(1) ?? 0, o?.Int32(5, 1) ?? 1, o?.Int32(4, 1) ?? 1,
                r.Activation(o?.Int8(3) ?? 0)), r.Data(0, 1, 2));
        },
        InferShape = s =>
        {
            var conv = s.Attributes<Conv2DAttributes>();
            var (input, filter) = (s.Rank(s.Input(0), 4), s.Rank(s.Input(1), 4));
            s.CheckWindow(conv.StrideH, conv.StrideW, conv.DilationH, conv.DilationW);
            if (filter[3] != input[3])
                throw s.Fail(ErrorCodes.InvalidShape, $"filter {ShapeContext.Text(filter)} has {filter[3]} input channels, the input {ShapeContext.Text(input)} has {input[3]} (grouped convolution is not supported)");
            s.CheckBias(filter[0]);
            return new[]
            {
                input[0],
                s.Spatial(input[1], filter[1], conv.StrideH, conv.DilationH, conv.Padding),
                s.Spatial(input[2], filter[2], conv.StrideW, conv.DilationW, conv.Padding),
                filter[0],
            };
        },
        Macs = node =>
        {
            var filter = node.Input(1).Shape; // [O, KH, KW, I]
            return node.Output.ElementCount * filter[1] * filter[2] * filter[3];
        },
        Evaluate = ConvolutionReference.Conv2D,
        Kernel = Convolutions.Kernel,
    };

    public static readonly OpKind DepthwiseConv2D = new()
    {
        Name = "DEPTHWISE_CONV_2D", BuiltinCode = 4, HasWeights = true, ChannelDimension = 3, TypesText = OperatorSupport.WeightsTypesText,
        Import = r =>
        {
            r.Inputs(2, 3);
            var o = r.Options(2 /* DepthwiseConv2DOptions */);
            var inputs = r.Data(0, 1, 2);
            // depth_multiplier is redundant (TFLite ignores it in newer versions): the shapes decide.
            int multiplier = o?.Int32(3) ?? 0;
            if (inputs[0] is { Rank: 4 } x && inputs[1] is { Rank: 4 } f && x.Shape[3] > 0 && f.Shape[3] % x.Shape[3] == 0)
                multiplier = f.Shape[3] / x.Shape[3];
            return (new DepthwiseConv2DAttributes(
                r.Padding(o?.Int8(0) ?? 0), o?.Int32(2) ?? 0, o?.Int32(1) ?? 0, o?.Int32(6, 1) ?? 1, o?.Int32(5, 1) ?? 1,
                multiplier, r.Activation(o?.Int8(4) ?? 0)), inputs);
        },
        InferShape = s =>
        {
            var dw = s.Attributes<DepthwiseConv2DAttributes>();
            var (input, filter) = (s.Rank(s.Input(0), 4), s.Rank(s.Input(1), 4));
            s.CheckWindow(dw.StrideH, dw.StrideW, dw.DilationH, dw.DilationW);
            if (filter[0] != 1)
                throw s.Fail(ErrorCodes.InvalidShape, $"depthwise filter {ShapeContext.Text(filter)} must have shape [1, height, width, channels]");
            if (dw.DepthMultiplier < 1 || (long)input[3] * dw.DepthMultiplier != filter[3])
                throw s.Fail(ErrorCodes.InvalidShape, $"filter {ShapeContext.Text(filter)} has {filter[3]} channels, but the input has {input[3]} channels and the depth multiplier is {dw.DepthMultiplier}");
            s.CheckBias(filter[3]);
            return new[]
            {
                input[0],
                s.Spatial(input[1], filter[1], dw.StrideH, dw.DilationH, dw.Padding),
                s.Spatial(input[2], filter[2], dw.StrideW, dw.DilationW, dw.Padding),
                filter[3],
            };
        },
        Macs = node =>
        {
            var filter = node.Input(1).Shape; // [1, KH, KW, C*M]
            return node.Output.ElementCount * filter[1] * filter[2];
        },
        Evaluate = ConvolutionReference.DepthwiseConv2D,
        Kernel = Convolutions.Kernel,
    };

    public static readonly OpKind TransposeConv = new()
    {
        Name = "TRANSPOSE_CONV", BuiltinCode = 67, HasWeights = true, TypesText = OperatorSupport.WeightsTypesText,
        Import = r =>
        {
            // TFLite order: [output_shape, weights, input, bias?]; the IR's: [input, weights, bias?].
            r.Inputs(3, 4);
            var o = r.Options(49 /* TransposeConvOptions */);
            // A computed output_shape (e.g. a model input) is accepted as TFLite Micro accepts it: it cannot
            // resize tensors, so the output keeps the shape declared in the file.
            var outputShape = r.IsConstant(0) ? r.ConstantInts(0, "output shape") : r.DeclaredOutputShape;
            return (new TransposeConvAttributes(
                r.Padding(o?.Int8(0) ?? 0), o?.Int32(2) ?? 0, o?.Int32(1) ?? 0, outputShape, r.Activation(o?.Int8(3) ?? 0)),
                new[] { r.Required(2, "input"), r.Required(1, "weights"), r.Optional(3) });
        },
        InferShape = s =>
        {
            var tc = s.Attributes<TransposeConvAttributes>();
            var (input, filter) = (s.Rank(s.Input(0), 4), s.Rank(s.Input(1), 4));
            s.CheckWindow(tc.StrideH, tc.StrideW, 1, 1);
            if (filter[3] != input[3])
                throw s.Fail(ErrorCodes.InvalidShape, $"filter {ShapeContext.Text(filter)} has {filter[3]} input channels, the input {ShapeContext.Text(input)} has {input[3]}");
            var shape = tc.OutputShape;
            if (shape.Length != 4 || shape[0] != input[0] || shape[3] != filter[0] || shape[1] < 1 || shape[2] < 1)
                throw s.Fail(ErrorCodes.InvalidShape, $"output shape {ShapeContext.Text(shape)} does not fit input {ShapeContext.Text(input)} and filter {ShapeContext.Text(filter)}");
            s.CheckBias(filter[0]);
            return (int[])shape.Clone();
        },
        Macs = node =>
        {
            var filter = node.Input(1).Shape; // [O, KH, KW, I]
            return node.Input(0).ElementCount * filter[0] * filter[1] * filter[2];
        },
        Evaluate = ConvolutionReference.TransposeConv,
        Kernel = new TransposeConvKernel(),
    };

    public static readonly OpKind FullyConnected = new()
    {
        Name = "FULLY_CONNECTED", BuiltinCode = 9, HasWeights = true, TypesText = OperatorSupport.WeightsTypesText,
        Import = r =>
        {
            r.Inputs(2, 3);
            var o = r.Options(8 /* FullyConnectedOptions */);
            if ((o?.Int8(1) ?? 0) != 0)
                throw r.Error(ErrorCodes.UnsupportedFeature, "uses shuffled weights (weights_format SHUFFLED4x16INT8), which are not supported");
            return (new FullyConnectedAttributes(r.Activation(o?.Int8(0) ?? 0), o?.Bool(2) ?? false), r.Data(0, 1, 2));
        },
        InferShape = s =>
        {
            var fc = s.Attributes<FullyConnectedAttributes>();
            var input = s.Input(0).Shape;
            var weights = s.Rank(s.Input(1), 2);
            int units = weights[0], depth = weights[1];
            long count = s.Input(0).ElementCount;
            if (depth <= 0 || count % depth != 0)
                throw s.Fail(ErrorCodes.InvalidShape, $"input {ShapeContext.Text(input)} cannot be split into rows of the weights' depth {depth}");
            s.CheckBias(units);
            if (!fc.KeepNumDims)
                return new[] { (int)(count / depth), units };
            if (input.Length == 0 || input[^1] != depth)
                throw s.Fail(ErrorCodes.InvalidShape, $"with keep_num_dims the input's last dimension must equal the weights' depth {depth}, input is {ShapeContext.Text(input)}");
            var result = (int[])input.Clone();
            result[^1] = units;
            return result;
        },
        Macs = node => node.Output.ElementCount * node.Input(1).Shape[1], // weights [units, depth]
        Evaluate = ConvolutionReference.FullyConnected,
        Kernel = new FullyConnectedKernel(),
    };
}

file static class Convolutions
{
    public static readonly Kernel Kernel = new ConvolutionKernel();
}
