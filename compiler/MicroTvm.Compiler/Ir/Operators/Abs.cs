using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

public sealed partial class OpKind
{
    /// <summary>ABS: [input] -> |input|, float32, int8 and int16 (TFLite Micro's elementwise ABS).</summary>
    public static readonly OpKind Abs = new()
    {
        Name = "ABS", BuiltinCode = 101,
        Import = r =>
        {
            r.Inputs(1, 1);
            return (NoAttributes.Instance, r.Data(0));
        },
        InferShape = s => s.SameAsInput(),
        Evaluate = AbsReference.Evaluate,
        Kernel = new AbsKernel(),
    };
}
