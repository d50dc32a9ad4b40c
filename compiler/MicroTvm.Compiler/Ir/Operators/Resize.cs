using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>
/// RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR of an NHWC input to the constant size [height, width] (TFLite Micro
/// refuses a computed size too). Like TFLite Micro both work on stored values and check no quantization.
/// </summary>
public sealed partial class OpKind
{
    public static readonly OpKind ResizeNearestNeighbor = Resizes.Resize("RESIZE_NEAREST_NEIGHBOR", 97, 74 /* ResizeNearestNeighborOptions */, bilinear: false,
        new[] { ElementType.Float32, ElementType.Int8, ElementType.Int16 });

    public static readonly OpKind ResizeBilinear = Resizes.Resize("RESIZE_BILINEAR", 23, 15 /* ResizeBilinearOptions */, bilinear: true,
        new[] { ElementType.Float32, ElementType.Int8 });
}

/// <summary>RESIZE_*. Inputs: [input]; the output size and the two coordinate options.</summary>
public sealed record ResizeAttributes(int Height, int Width, bool AlignCorners, bool HalfPixelCenters) : OpAttributes
{
    public override string Describe() => AttributeText.Join($"size {Height}x{Width}", AlignCorners ? "align corners" : "", HalfPixelCenters ? "half pixel centers" : "");
}

file static class Resizes
{
    public static OpKind Resize(string name, int code, byte options, bool bilinear, ElementType[] types) => new()
    {
        Name = name, BuiltinCode = code, Types = types, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            var size = r.ConstantInts(1, "size");
            if (size.Length != 2 || size[0] < 1 || size[1] < 1)
                throw r.Error(ErrorCodes.InvalidOperator, $"size [{string.Join(",", size)}] must be two positive values (height, width)");
            var o = r.Options(options);
            // ResizeBilinearOptions: new_height, new_width (deprecated), align_corners, half_pixel_centers.
            bool align = o?.Bool(bilinear ? 2 : 0) ?? false, half = o?.Bool(bilinear ? 3 : 1) ?? false;
            if (bilinear && align && half)
                throw r.Error(ErrorCodes.InvalidOperator, "align_corners and half_pixel_centers are both set (TFLite Micro refuses it too)");
            return (new ResizeAttributes(size[0], size[1], align, half), r.Data(0));
        },
        InferShape = s =>
        {
            var input = s.Rank(s.Input(0), 4);
            var a = s.Attributes<ResizeAttributes>();
            return new[] { input[0], a.Height, a.Width, input[3] };
        },
        Evaluate = (node, values) => ResizeReference.Evaluate(node, values, bilinear),
        Kernel = new ResizeKernel(bilinear),
    };
}
