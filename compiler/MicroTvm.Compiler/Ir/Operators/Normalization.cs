using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>Row-wise normalizations over the last dimension: L2_NORMALIZATION and LOG_SOFTMAX, shaped like the input.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind L2Normalization = new()
    {
        Name = "L2_NORMALIZATION", BuiltinCode = 11, Types = new[] { ElementType.Float32, ElementType.Int8 },
        TypesText = "float32, int8 (output on TFLM's grid, scale 1/128, zero point 0)",
        Import = r =>
        {
            r.Inputs(1, 1);
            var activation = r.Activation(r.Options(12 /* L2NormOptions */)?.Int8(0) ?? 0);
            if (activation != FusedActivation.None)
                throw r.Error(ErrorCodes.UnsupportedFeature, $"fused activation {activation} on L2_NORMALIZATION is not supported (TFLite Micro refuses it too)");
            return (NoAttributes.Instance, r.Data(0));
        },
        InferShape = s => s.Input(0).Rank == 0
            ? throw s.Fail(ErrorCodes.InvalidShape, $"input {s.Input(0)} is a scalar; L2_NORMALIZATION needs at least one dimension")
            : s.SameAsInput(),
        Evaluate = NormalizationReference.L2Normalization,
        Kernel = new NormalizationKernel(),
    };

    public static readonly OpKind LogSoftmax = new()
    {
        Name = "LOG_SOFTMAX", BuiltinCode = 50, Types = new[] { ElementType.Float32 },
        Import = r =>
        {
            r.Inputs(1, 1);
            return (NoAttributes.Instance, r.Data(0));
        },
        InferShape = s => s.Input(0).Rank == 0
            ? throw s.Fail(ErrorCodes.InvalidShape, $"input {s.Input(0)} is a scalar; LOG_SOFTMAX needs at least one dimension")
            : s.SameAsInput(),
        Evaluate = NormalizationReference.LogSoftmax,
        Kernel = new NormalizationKernel(),
    };
}
