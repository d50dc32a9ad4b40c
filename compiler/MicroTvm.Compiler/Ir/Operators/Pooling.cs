using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>Window pooling over NHWC: [input].</summary>
public sealed partial class OpKind
{
    public static readonly OpKind AveragePool2D = new()
    {
        Name = "AVERAGE_POOL_2D", BuiltinCode = 1,
        Import = Pools.Import, InferShape = Pools.Shape,
        Evaluate = PoolingReference.AveragePool2D,
        Kernel = Pools.Kernel,
    };

    public static readonly OpKind MaxPool2D = new()
    {
        Name = "MAX_POOL_2D", BuiltinCode = 17,
        Import = Pools.Import, InferShape = Pools.Shape,
        Evaluate = PoolingReference.MaxPool2D,
        Kernel = Pools.Kernel,
    };
}

file static class Pools
{
    public static readonly Kernel Kernel = new PoolingKernel();

    public static (OpAttributes, Tensor?[]) Import(OperandReader r)
    {
        r.Inputs(1, 1);
        var o = r.Options(5 /* Pool2DOptions */);
        return (new Pool2DAttributes(
            r.Padding(o?.Int8(0) ?? 0), o?.Int32(2) ?? 0, o?.Int32(1) ?? 0, o?.Int32(4) ?? 0, o?.Int32(3) ?? 0,
            r.Activation(o?.Int8(5) ?? 0)), r.Data(0));
    }

    public static int[] Shape(ShapeContext s)
    {
        var pool = s.Attributes<Pool2DAttributes>();
        var input = s.Rank(s.Input(0), 4);
        s.CheckWindow(pool.StrideH, pool.StrideW, 1, 1);
        if (pool.FilterH < 1 || pool.FilterW < 1)
            throw s.Fail(ErrorCodes.InvalidOperator, $"filter size {pool.FilterH}x{pool.FilterW} must be at least 1x1");
        return new[]
        {
            input[0],
            s.Spatial(input[1], pool.FilterH, pool.StrideH, 1, pool.Padding),
            s.Spatial(input[2], pool.FilterW, pool.StrideW, 1, pool.Padding),
            input[3],
        };
    }
}
