using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>Operators that move elements without arithmetic.</summary>
internal static class LayoutKernels
{
    /// <summary>RESHAPE, SQUEEZE, EXPAND_DIMS: the bytes are unchanged.</summary>
    public static void Reshape(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != output.Type || input.ElementCount != output.ElementCount) throw Kernels.Unsupported(node);
        values.SetBytes(output, (byte[])values.Bytes(input).Clone());
    }
}
