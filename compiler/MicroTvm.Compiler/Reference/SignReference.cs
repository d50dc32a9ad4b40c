using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>NEG, as TensorFlow Lite Micro's neg kernel computes it: float32 only, −x.</summary>
internal static class SignReference
{
    public static void Neg(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != ElementType.Float32 || output.Type != ElementType.Float32) throw ReferenceErrors.Unsupported(node);
        values.SetFloats(output, Array.ConvertAll(values.Floats(input), x => -x));
    }
}
